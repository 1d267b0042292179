import { z } from 'zod';

/** `512MiB` → bytes (KB/MB/GB are read as KiB/MiB/GiB: sizes of buffers, not of disks). */
export function parseSize(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const n = Number(m?.[1] ?? 0);
  const unit = (m?.[2] ?? '').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
  return Math.round(n * mult);
}

/** A size in config: a number of bytes or `64MiB`. Shared by collectors/config.ts and posture/config.ts. */
export const sizeSchema = z
  .union([z.number().int().min(0), z.string().regex(/^\d+(\.\d+)?\s*(b|kb|kib|mb|mib|gb|gib)?$/i, 'expected a size like 512MiB, 64KiB or a number of bytes')])
  .transform((v) => parseSize(v));
