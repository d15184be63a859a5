import { createRouter, createWebHashHistory } from 'vue-router';
import ProjectsView from './views/ProjectsView.vue';

// Hash history: the same URLs work from file:// (Electron) and from the HTTP server.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/projects' },
    { path: '/projects', name: 'projects', component: ProjectsView, meta: { title: 'Projects' } },
    { path: '/data', name: 'data', component: () => import('./views/DataView.vue'), meta: { title: 'Data' } },
    { path: '/compress', name: 'compress', component: () => import('./views/CompressView.vue'), meta: { title: 'Compress' } },
    { path: '/crossfield', name: 'crossfield', component: () => import('./views/CrossFieldView.vue'), meta: { title: 'Cross-field' } },
    { path: '/train', name: 'train', component: () => import('./views/TrainView.vue'), meta: { title: 'Train' } },
    { path: '/compare', name: 'compare', component: () => import('./views/CompareView.vue'), meta: { title: 'Compare' } },
    { path: '/archive', name: 'archive', component: () => import('./views/ArchiveView.vue'), meta: { title: 'Archive' } },
    { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue'), meta: { title: 'Settings' } },
  ],
});
