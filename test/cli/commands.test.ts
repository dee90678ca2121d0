/**
 * The CLI's command table (cli/main.ts COMMANDS) is static; this keeps it
 * complete: every module in cli/commands/ is registered under its file name,
 * and registers a command of that name.
 */
import { readdirSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/main';

describe('cli/main.ts COMMANDS', () => {
  it('lists every file of cli/commands/ (add a new command there)', () => {
    // Prepare
    const files = readdirSync(new URL('../../cli/commands/', import.meta.url))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.slice(0, -3))
      .sort();
    // Assess
    expect(Object.keys(COMMANDS).sort()).toEqual(files);
  });

  it('registers, for each file, the command it is named after', () => {
    for (const [name, register] of Object.entries(COMMANDS)) {
      // Act
      const program = new Command('offload');
      register(program);
      // Assess
      expect(program.commands.map((c) => c.name()), name).toContain(name);
    }
  });
});
