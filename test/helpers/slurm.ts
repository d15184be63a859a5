/**
 * A one-node Slurm cluster on this machine, for tests (GUIDE.md "cluster"): munged as user munge with its socket in a
 * temporary folder, slurmctld and slurmd from a slurm.conf naming this host, its CPUs and memory. Needs root and
 * Debian's slurmctld slurmd slurm-client munge (.ci/run installs them). stop() ends exactly what start() started, by
 * the PIDs in their pid files.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { freemem, hostname, tmpdir } from 'node:os';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

export interface SlurmCluster {
  dir: string;
  conf: string;
  /** environment for sbatch / squeue / fieldpack: SLURM_CONF */
  env: NodeJS.ProcessEnv;
  log(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function idOf(user: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

function pidIn(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Running (a zombie waiting for its parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function startSlurm(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'fieldpack-slurm-'));
  chmodSync(dir, 0o755);
  const pidFiles: string[] = [];
  const stop = async () => {
    // slurmd, slurmctld, munged: the ones started here, by their pid files, each waited for (then SIGKILL)
    for (const f of [...pidFiles].reverse()) {
      const pid = pidIn(f);
      if (!pid || !alive(pid)) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      const t0 = Date.now();
      while (alive(pid) && Date.now() - t0 < 15_000) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  };
  try {
    const uid = idOf('munge', '-u');
    const gid = idOf('munge', '-g');
    const mungeDir = join(dir, 'munge');
    mkdirSync(mungeDir, { mode: 0o755 });
    chownSync(mungeDir, uid, gid);
    const key = join(mungeDir, 'munge.key');
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    chownSync(key, uid, gid);
    const socket = join(mungeDir, 'munge.socket');
    const mungePid = join(mungeDir, 'munged.pid');
    pidFiles.push(mungePid);
    execFileSync('runuser', ['-u', 'munge', '--', 'munged', `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${mungePid}`, `--log-file=${join(mungeDir, 'munged.log')}`, `--seed-file=${join(mungeDir, 'munged.seed')}`], { stdio: 'pipe' });
    const host = hostname().split('.')[0]!;
    const cpus = availableParallelism();
    const memory = Math.max(256, Math.floor((freemem() / 2 ** 20) * 0.5));
    const port = 20000 + Math.floor(Math.random() * 20000);
    for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
    const conf = join(dir, 'slurm.conf');
    writeFileSync(conf, [
      'ClusterName=fieldpack-test',
      `SlurmctldHost=${host}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      'SlurmUser=root',
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/backfill',
      'ReturnToService=2',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'SlurmctldTimeout=30',
      'SlurmdTimeout=30',
      'MinJobAge=300',
      `NodeName=${host} CPUs=${cpus} RealMemory=${memory} State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'));
    const env = { ...process.env, SLURM_CONF: conf };
    pidFiles.push(join(dir, 'slurmctld.pid'));
    execFileSync('slurmctld', ['-f', conf], { env, stdio: 'pipe' });
    pidFiles.push(join(dir, 'slurmd.pid'));
    execFileSync('slurmd', ['-f', conf], { env, stdio: 'pipe' });
    const t0 = Date.now();
    for (;;) {
      let state = '';
      try {
        state = execFileSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      } catch {
        /* not up yet */
      }
      if (/^(idle|mixed)/.test(state)) break;
      if (Date.now() - t0 > 60_000) throw new Error(`the Slurm node did not come up (state "${state}")`);
      await sleep(500);
    }
    const log = () => ['slurmctld.log', 'slurmd.log'].map((f) => (existsSync(join(dir, f)) ? `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-30).join('\n')}` : '')).join('\n');
    return {
      dir, conf, env, log,
      async stop() {
        await stop();
        rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
      },
    };
  } catch (e) {
    await stop();
    const logs = ['slurmctld.log', 'slurmd.log', 'munge/munged.log'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-2000) : '')).join('\n');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
}
