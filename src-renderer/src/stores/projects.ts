import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Project } from '@api/contract.ts';
import { api } from '../api/client.ts';

const CURRENT_KEY = 'fieldpack-current-project';

/**
 * Projects and the open one. The open project is remembered in this tab (sessionStorage: a reload keeps the tab's own
 * project, not the one last opened in another tab), in this browser (localStorage: a new tab, a bookmarked link
 * (#/compress)) and in the store (projects.setOpened: a new launch on another port); the first start opens the demo
 * project the server created.
 */
export const useProjects = defineStore('projects', () => {
  const projects = ref<Project[]>([]);
  const currentId = ref<number | null>(Number(sessionStorage.getItem(CURRENT_KEY) ?? localStorage.getItem(CURRENT_KEY)) || null);
  const loaded = ref(false);
  const current = computed(() => projects.value.find((p) => p.id === currentId.value) ?? null);

  async function refresh() {
    projects.value = await api.call('projects.list', {});
    const known = (id: number | null) => id !== null && projects.value.some((p) => p.id === id);
    if (!known(currentId.value)) {
      const last = (await api.call('projects.lastOpened', {})).id;
      remember(known(last) ? last : null);
    }
    loaded.value = true;
  }
  function remember(id: number | null) {
    currentId.value = id;
    for (const storage of [sessionStorage, localStorage]) {
      if (id === null) storage.removeItem(CURRENT_KEY);
      else storage.setItem(CURRENT_KEY, String(id));
    }
  }
  function open(id: number | null) {
    remember(id);
    void api.call('projects.setOpened', { id }).catch(() => {
      /* remembered in this browser at least */
    });
  }
  async function create(name: string, description = '') {
    const p = await api.call('projects.create', { name, description });
    await refresh();
    open(p.id);
    return p;
  }
  async function rename(id: number, name: string) {
    await api.call('projects.rename', { id, name });
    await refresh();
  }
  async function remove(id: number) {
    await api.call('projects.delete', { id });
    if (currentId.value === id) open(null);
    await refresh();
  }
  api.onEvent((e) => {
    if (e.type === 'projects.changed') void refresh();
  });
  return { projects, current, currentId, loaded, refresh, open, create, rename, remove };
});
