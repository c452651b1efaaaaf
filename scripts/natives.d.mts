// Types of scripts/natives.mjs for the TypeScript tests (test/build/natives.test.ts).
export const HEAD_BYTES: number;
export const RUNTIME_DIR: string;
export interface NativeHeader {
  format: 'elf' | 'macho' | 'pe' | 'unknown';
  os?: string;
  archs: string[];
  universal?: true;
  detail: string;
}
export interface NativeFile {
  path: string;
  head: Uint8Array;
}
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}
export function nativeHeader(bytes: Uint8Array): NativeHeader;
export function isNativeFile(name: string): boolean;
export const TARGETS: Record<string, { os: string; arch: string; libsql?: string; refused?: string }>;
export function requiredNatives(target: string): string[];
export function checkNatives(files: NativeFile[], target: string): { lines: string[]; errors: string[] };
export function zipEntries(fd: number): ZipEntry[];
export function zipEntryHead(fd: number, entry: ZipEntry, max?: number): Buffer;
export function vsixNatives(vsixPath: string): NativeFile[];
export function folderNatives(dir: string): NativeFile[];
export function readHead(path: string, max?: number): Buffer;
