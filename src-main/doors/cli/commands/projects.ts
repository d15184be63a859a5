import { dispatch } from '../../../services/dispatch.ts';
import type { Project } from '../../../api/contract.ts';
import { CliUsageError, type CliCommand } from '../command.ts';
import { formatTable } from '../io.ts';

export const projectsCommand: CliCommand = {
  name: 'projects',
  summary: 'list, create, rename or delete projects',
  usage: `fieldpack projects [list]
fieldpack projects create NAME [--description TEXT]
fieldpack projects rename ID NEW_NAME
fieldpack projects delete ID --yes`,
  async run(argv, { io, app }) {
    const [verb = 'list', ...rest] = argv;
    const { services } = await app();
    switch (verb) {
      case 'list': {
        const projects = (await dispatch(services, 'projects.list', {})) as Project[];
        if (!projects.length) io.out('no projects yet: fieldpack projects create NAME');
        else io.out(formatTable(['id', 'name', 'datasets', 'runs', 'updated'], projects.map((p) => [p.id, p.name, p.datasetCount, p.runCount, p.updatedAt.slice(0, 19)])));
        return 0;
      }
      case 'create': {
        const i = rest.indexOf('--description');
        const description = i >= 0 ? rest.splice(i, 2)[1] ?? '' : '';
        if (rest.length !== 1) throw new CliUsageError('projects create takes one NAME (quote names with spaces)');
        const p = (await dispatch(services, 'projects.create', { name: rest[0], description })) as Project;
        io.out(`created project ${p.id}: ${p.name}`);
        return 0;
      }
      case 'rename': {
        if (rest.length !== 2) throw new CliUsageError('projects rename takes ID NEW_NAME');
        const p = (await dispatch(services, 'projects.rename', { id: Number(rest[0]), name: rest[1] })) as Project;
        io.out(`renamed project ${p.id} to ${p.name}`);
        return 0;
      }
      case 'delete': {
        const yes = rest.includes('--yes');
        const ids = rest.filter((a) => a !== '--yes');
        if (ids.length !== 1) throw new CliUsageError('projects delete takes one ID');
        const p = (await dispatch(services, 'projects.get', { id: Number(ids[0]) })) as Project;
        if (!yes) {
          io.err(`this deletes project ${p.id} "${p.name}" with its ${p.datasetCount} dataset(s) and ${p.runCount} run(s): add --yes to confirm`);
          return 1;
        }
        await dispatch(services, 'projects.delete', { id: p.id });
        io.out(`deleted project ${p.id}: ${p.name}`);
        return 0;
      }
      default:
        throw new CliUsageError(`unknown projects verb "${verb}"`);
    }
  },
};
