/**
 * The demo project: on the first start of the workbench (no project in the store, and none offered
 * before), a project with the embedded COADS sample, so that everything works with no file of the user's;
 * it is made the last-opened project, so the first window opens it. Deleting it is respected: it is
 * offered once per database.
 */
import type { Project } from '../api/contract.ts';
import type { Store } from './store/store.ts';
import { describeSample } from './data/samples.ts';
import { storeDataset } from './data/store-import.ts';

const OFFERED_KEY = 'demoProjectOffered';
/** Store state: the project last opened in a window (projects.lastOpened / projects.setOpened). */
export const LAST_OPENED_KEY = 'lastOpenedProject';
export const DEMO_PROJECT_NAME = 'Demo: COADS climatology';

export async function ensureDemoProject(store: Store, log: (line: string) => void = () => {}): Promise<Project | null> {
  if (store.getState(OFFERED_KEY) || store.listProjects().length > 0) return null;
  const { sample, dataset } = await describeSample('coads-climatology');
  const project = store.createProject(DEMO_PROJECT_NAME, `${sample.description}\n\n${sample.license}`);
  storeDataset(store, project.id, { ...dataset, name: sample.name });
  store.setState(OFFERED_KEY, true);
  store.setState(LAST_OPENED_KEY, project.id);
  log(`created the demo project "${DEMO_PROJECT_NAME}" with the embedded COADS sample`);
  return store.getProject(project.id);
}
