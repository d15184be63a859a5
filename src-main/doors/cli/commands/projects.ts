import { dispatch } from '../../../services/dispatch.ts';
import type { Project } from '../../../api/contract.ts';
import { CliUsageError, flag, onlyFlags, parseFlags, type CliCommand } from '../command.ts';
import { formatTable } from '../io.ts';

export const projectsCommand: CliCommand = {
  name: 'projects',
  summary: 'list, create, rename or delete projects',
  usage: `fieldpack projects [list]
fieldpack projects create NAME [--description TEXT]
fieldpack projects rename ID NEW_NAME
fieldpack projects delete ID --yes`,
  async run(argv, { io, app }) {
    // flags parsed as every command parses them: an unknown one is refused (`projects create --foo` made a project
    // named "--foo"), and each verb takes only its own
    const p = parseFlags(argv, { values: ['description'], booleans: ['yes'] });
    const [verb = 'list', ...rest] = p.positionals;
    const takes: Record<string, string[]> = { list: [], create: ['description'], rename: [], delete: ['yes'] };
    if (!(verb in takes)) throw new CliUsageError(`unknown projects verb "${verb}"`);
    onlyFlags(p, `projects ${verb}`, takes[verb]!);
    // the arguments too, before the store is opened
    const args = { list: [0, 'no arguments'], create: [1, 'one NAME (quote names with spaces)'], rename: [2, 'ID NEW_NAME'], delete: [1, 'one ID'] } as const;
    const [count, what] = args[verb as keyof typeof args];
    if (rest.length !== count) throw new CliUsageError(`projects ${verb} takes ${what}${rest.length ? ` (got ${rest.join(' ')})` : ''}`);
    const id = verb === 'rename' || verb === 'delete' ? projectId(rest[0]!) : 0;
    const { services } = await app();
    switch (verb) {
      case 'list': {
        const projects = (await dispatch(services, 'projects.list', {})) as Project[];
        if (!projects.length) io.out('no projects yet: fieldpack projects create NAME');
        else io.out(formatTable(['id', 'name', 'datasets', 'runs', 'updated'], projects.map((x) => [x.id, x.name, x.datasetCount, x.runCount, x.updatedAt.slice(0, 19)])));
        return 0;
      }
      case 'create': {
        const created = (await dispatch(services, 'projects.create', { name: rest[0], description: flag(p, 'description') ?? '' })) as Project;
        io.out(`created project ${created.id}: ${created.name}`);
        return 0;
      }
      case 'rename': {
        const renamed = (await dispatch(services, 'projects.rename', { id, name: rest[1] })) as Project;
        io.out(`renamed project ${renamed.id} to ${renamed.name}`);
        return 0;
      }
      default: {
        const project = (await dispatch(services, 'projects.get', { id })) as Project;
        if (flag(p, 'yes') !== 'true') {
          io.err(`this deletes project ${project.id} "${project.name}" with its ${project.datasetCount} dataset(s) and ${project.runCount} run(s): add --yes to confirm`);
          return 1;
        }
        await dispatch(services, 'projects.delete', { id: project.id });
        io.out(`deleted project ${project.id}: ${project.name}`);
        return 0;
      }
    }
  },
};

/** A project id as typed (a whole number from 1), or a usage error quoting it. */
function projectId(x: string): number {
  const n = Number(x);
  if (!Number.isInteger(n) || n <= 0) throw new CliUsageError(`"${x}" is not a project id (projects list shows them)`);
  return n;
}
