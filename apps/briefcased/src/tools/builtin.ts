import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { textResult, type Tool, type ToolContext, type ToolOutput } from './tool.ts';

const NOTES_FILE = 'notes.jsonl';

abstract class BuiltinTool implements Tool {
  abstract readonly descriptor: Tool['descriptor'];
  readonly server = 'briefcase';
  readonly tags: string[] = ['demo'];
  readonly sensitiveArgs: string[] = [];
  readonly reads: string | null = null;
  readonly changes: string | null = null;
  readonly currency = 'USD';
  estimateCost(): number {
    return 0;
  }
  abstract execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput>;
}

export class EchoTool extends BuiltinTool {
  readonly descriptor: Tool['descriptor'] = {
    name: 'echo',
    title: 'Echo',
    description: 'Returns the text it is given. Useful to check that the Briefcase is connected.',
    category: 'read',
    origin: 'builtin',
    inputSchema: {
      type: 'object',
      properties: { text: { type: 'string', maxLength: 100_000, description: 'Text to echo back' } },
      required: ['text'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  };

  async execute(args: Record<string, unknown>): Promise<ToolOutput> {
    return { result: textResult(String(args.text)) };
  }
}

interface Note {
  id: string;
  ts: string;
  text: string;
  tags: string[];
}

export class NotesAddTool extends BuiltinTool {
  override readonly changes = 'appends one note to notes.jsonl in the Briefcase data directory';
  readonly descriptor: Tool['descriptor'] = {
    name: 'notes.add',
    title: 'Add a note',
    description: 'Stores a short note in the Briefcase notebook. Needs approval by default.',
    category: 'write',
    origin: 'builtin',
    inputSchema: {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1, maxLength: 10_000 },
        tags: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 16 },
      },
      required: ['text'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  };

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
    const note: Note = {
      id: randomUUID(),
      ts: new Date().toISOString(),
      text: String(args.text),
      tags: Array.isArray(args.tags) ? (args.tags as string[]) : [],
    };
    const fd = openSync(join(ctx.dataDir, NOTES_FILE), 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(note)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return {
      result: { content: [{ type: 'text', text: `Saved note ${note.id}` }], structuredContent: { id: note.id } },
    };
  }
}

export class NotesSearchTool extends BuiltinTool {
  override readonly reads = 'the notes in notes.jsonl in the Briefcase data directory';
  readonly descriptor: Tool['descriptor'] = {
    name: 'notes.search',
    title: 'Search notes',
    description: 'Finds notes whose text or tags contain the query (case-insensitive).',
    category: 'read',
    origin: 'builtin',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', maxLength: 1000 },
        limit: { type: 'integer', minimum: 1, maximum: 100 },
      },
      required: ['query'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  };

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
    const path = join(ctx.dataDir, NOTES_FILE);
    const query = String(args.query).toLowerCase();
    const limit = typeof args.limit === 'number' ? args.limit : 20;
    const notes: Note[] = [];
    if (existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const note = JSON.parse(line) as Note;
          const hay = `${note.text}\n${note.tags.join(' ')}`.toLowerCase();
          if (hay.includes(query)) notes.push(note);
        } catch {
          // A torn last line after a crash is skipped, never fatal.
        }
      }
    }
    const found = notes.slice(-limit).reverse();
    const text = found.length
      ? found.map((n) => `- ${n.text}${n.tags.length ? ` [${n.tags.join(', ')}]` : ''} (${n.ts})`).join('\n')
      : 'No notes match.';
    return { result: { content: [{ type: 'text', text }], structuredContent: { notes: found } } };
  }
}

export function builtinTools(): Tool[] {
  return [new EchoTool(), new NotesAddTool(), new NotesSearchTool()];
}
