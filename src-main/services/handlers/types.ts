import type { ApiMethod, ApiOutput, ApiParsedInput, DoctorReport } from '../../api/contract.ts';
import type { EventBus } from '../events.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Store } from '../store/store.ts';

/** What every handler group gets. */
export interface HandlerDeps {
  store: Store;
  jobs: JobQueue;
  events: EventBus;
  door: DoctorReport['door'];
}

/** Implementations of a subset of the API's methods. */
export type Handlers<M extends ApiMethod> = { [K in M]: (input: ApiParsedInput<K>) => Promise<ApiOutput<K>> | ApiOutput<K> };
