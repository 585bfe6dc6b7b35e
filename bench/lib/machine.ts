// What the figures were measured on: absolute times only mean something next to this.
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  chromium?: string;
  /** 1-minute load average when the run started and ended: other work on a shared machine. */
  loadAverage: { start: number; end?: number };
}

export function describeMachine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    node: process.version,
    loadAverage: { start: Number(loadavg()[0]!.toFixed(2)) },
  };
}

export function formatMachine(machine: Machine): string {
  const chromium = machine.chromium ? `, Chromium ${machine.chromium} headless` : '';
  return `${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}${chromium}; load average ${machine.loadAverage.start} at start, ${machine.loadAverage.end ?? '?'} at end`;
}
