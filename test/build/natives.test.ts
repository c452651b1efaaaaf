// scripts/natives.mjs: the header parser on byte buffers built here from the format specifications, and on real
// binaries of four platforms that this checkout holds (onnxruntime-node ships them all in its package); the
// per-target check that `npm run package` runs on each VSIX, failing on a foreign file and on a missing binding;
// the zip reader on a zip written here (one stored entry, one deflated entry larger than the bytes read).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkNatives,
  folderNatives,
  HEAD_BYTES,
  isNativeFile,
  nativeHeader,
  readHead,
  requiredNatives,
  RUNTIME_DIR,
  vsixNatives,
  zipEntries,
  zipEntryHead,
} from '../../scripts/natives.mjs';

const root = resolve(__dirname, '..', '..');
const ort = join(root, 'node_modules/onnxruntime-node/bin/napi-v6');
const tmp = mkdtempSync(join(tmpdir(), 'natives-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** ELF header (gABI "ELF Header"): e_ident, e_type at 16, e_machine at 18, in EI_DATA's byte order. */
function elf(machine: number, { bits = 64, little = true } = {}): Buffer {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, little ? 1 : 2, 1]); // EV_CURRENT, ELFOSABI_NONE
  if (little) {
    b.writeUInt16LE(3, 16); // ET_DYN
    b.writeUInt16LE(machine, 18);
  } else {
    b.writeUInt16BE(3, 16);
    b.writeUInt16BE(machine, 18);
  }
  return b;
}

/** mach_header(_64) (<mach-o/loader.h>): magic, cputype, cpusubtype, filetype MH_DYLIB (6), in the file's order. */
function macho(cputype: number, { bits = 64, little = true } = {}): Buffer {
  const b = Buffer.alloc(32);
  const write = (v: number, o: number) => (little ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  write(bits === 64 ? 0xfeedfacf : 0xfeedface, 0);
  write(cputype, 4);
  write(0, 8);
  write(6, 12);
  return b;
}

/** fat_header + fat_arch records (<mach-o/fat.h>), big-endian; FAT_MAGIC_64 uses 32-byte fat_arch_64 records. */
function fat(cputypes: number[], wide = false): Buffer {
  const size = wide ? 32 : 20;
  const b = Buffer.alloc(8 + cputypes.length * size);
  b.writeUInt32BE(wide ? 0xcafebabf : 0xcafebabe, 0);
  b.writeUInt32BE(cputypes.length, 4);
  cputypes.forEach((c, i) => b.writeUInt32BE(c, 8 + i * size));
  return b;
}

/** PE (Microsoft "PE Format"): 'MZ', e_lfanew at 0x3C, "PE\0\0" there, then the COFF header's Machine. */
function pe(machine: number, lfanew = 0x80): Buffer {
  const b = Buffer.alloc(lfanew + 24);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(lfanew, 0x3c);
  b.write('PE\0\0', lfanew, 'latin1');
  b.writeUInt16LE(machine, lfanew + 4);
  return b;
}

describe('nativeHeader on headers built from the specifications', () => {
  it('reads ELF e_machine: EM_X86_64 62 (0x3E), EM_AARCH64 183 (0xB7), EM_ARM 40, EM_386 3; both byte orders', () => {
    expect(nativeHeader(elf(0x3e))).toMatchObject({ format: 'elf', os: 'linux', archs: ['x64'] });
    expect(nativeHeader(elf(0xb7))).toMatchObject({ format: 'elf', os: 'linux', archs: ['arm64'] });
    expect(nativeHeader(elf(40, { bits: 32 }))).toMatchObject({ archs: ['arm'] });
    expect(nativeHeader(elf(3, { bits: 32 }))).toMatchObject({ archs: ['ia32'] });
    // big-endian: e_machine read in EI_DATA's order (EM_PPC64 21 is none of ours)
    expect(nativeHeader(elf(0xb7, { little: false }))).toMatchObject({ archs: ['arm64'] });
    expect(nativeHeader(elf(21, { little: false })).archs).toEqual(['unknown (e_machine 0x15)']);
    expect(nativeHeader(elf(0x3e)).detail).toBe('ELF 64-bit LSB, e_machine 0x3e');
  });

  it('reads Mach-O cputype: CPU_TYPE_X86_64 0x01000007, CPU_TYPE_ARM64 0x0100000C, in the magic’s byte order', () => {
    expect(nativeHeader(macho(0x01000007))).toMatchObject({ format: 'macho', os: 'darwin', archs: ['x64'] });
    expect(nativeHeader(macho(0x0100000c))).toMatchObject({ format: 'macho', os: 'darwin', archs: ['arm64'] });
    // the bytes cf fa ed fe (MH_CIGAM_64 read big-endian) are a little-endian file
    expect(macho(0x0100000c).subarray(0, 4).toString('hex')).toBe('cffaedfe');
    expect(nativeHeader(macho(0x0100000c, { little: false }))).toMatchObject({ archs: ['arm64'] });
    expect(nativeHeader(macho(7, { bits: 32 }))).toMatchObject({ archs: ['ia32'] });
    expect(nativeHeader(macho(0x01000012)).archs).toEqual(['unknown (cputype 0x1000012)']); // CPU_TYPE_POWERPC64
  });

  it('reads every slice of a universal (fat) Mach-O file, FAT_MAGIC and FAT_MAGIC_64', () => {
    expect(nativeHeader(fat([0x01000007, 0x0100000c]))).toMatchObject({
      format: 'macho',
      os: 'darwin',
      universal: true,
      archs: ['x64', 'arm64'],
    });
    expect(nativeHeader(fat([0x0100000c], true))).toMatchObject({ universal: true, archs: ['arm64'] });
    expect(nativeHeader(fat([]))).toMatchObject({ format: 'unknown' });
  });

  it('reads the PE COFF Machine: IMAGE_FILE_MACHINE_AMD64 0x8664, ARM64 0xAA64, I386 0x14C', () => {
    expect(nativeHeader(pe(0x8664))).toMatchObject({ format: 'pe', os: 'win32', archs: ['x64'] });
    expect(nativeHeader(pe(0xaa64))).toMatchObject({ format: 'pe', os: 'win32', archs: ['arm64'] });
    expect(nativeHeader(pe(0x14c, 0x100))).toMatchObject({ archs: ['ia32'] });
    const noSignature = pe(0x8664);
    noSignature.write('NE', 0x80, 'latin1');
    expect(nativeHeader(noSignature)).toMatchObject({ format: 'unknown' });
    expect(nativeHeader(pe(0x8664).subarray(0, 0x82))).toMatchObject({ format: 'unknown' }); // cut short
  });

  it('calls anything else unknown', () => {
    expect(nativeHeader(Buffer.from('#!/usr/bin/env node\n'))).toMatchObject({ format: 'unknown', archs: [] });
    expect(nativeHeader(Buffer.from([0x7f]))).toMatchObject({ format: 'unknown' });
  });

  it('knows native files by name', () => {
    for (const f of ['a/index.node', 'libonnxruntime.so.1', 'x.so', 'libonnxruntime.1.30.0.dylib', 'DirectML.dll'])
      expect(isNativeFile(f)).toBe(true);
    for (const f of ['index.js', 'node.json', 'so.txt', 'README.md']) expect(isNativeFile(f)).toBe(false);
  });
});

describe('nativeHeader on real binaries of four platforms', () => {
  const cases: [string, string, string][] = [
    ['node_modules/@libsql/linux-x64-gnu/index.node', 'linux', 'x64'],
    [`${ort}/linux/x64/onnxruntime_binding.node`, 'linux', 'x64'],
    [`${ort}/linux/arm64/libonnxruntime.so.1`, 'linux', 'arm64'],
    [`${ort}/linux/arm64/onnxruntime_binding.node`, 'linux', 'arm64'],
    [`${ort}/win32/x64/onnxruntime.dll`, 'win32', 'x64'],
    [`${ort}/win32/x64/onnxruntime_binding.node`, 'win32', 'x64'],
    [`${ort}/win32/arm64/onnxruntime_binding.node`, 'win32', 'arm64'],
    [`${ort}/darwin/arm64/libonnxruntime.1.dylib`, 'darwin', 'arm64'],
    [`${ort}/darwin/arm64/onnxruntime_binding.node`, 'darwin', 'arm64'],
  ];
  it.each(cases)('%s is %s-%s', (file, os, arch) => {
    const path = resolve(root, file);
    expect(existsSync(path), `${path} (installed by npm ci)`).toBe(true);
    const h = nativeHeader(readHead(path));
    expect(h.os).toBe(os);
    expect(h.archs).toEqual([arch]);
  });
});

/** A fake staging folder holding the first HEAD_BYTES of real binaries at the given VSIX paths. */
function stageHeads(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), readHead(resolve(root, source)));
  }
  return dir;
}

describe('checkNatives (what npm run package checks in every staging folder and VSIX)', () => {
  const win = `${RUNTIME_DIR}/onnxruntime-node/bin/napi-v6/win32/x64`;
  const winFiles = {
    [`${RUNTIME_DIR}/@libsql/win32-x64-msvc/index.node`]: `${ort}/win32/x64/onnxruntime_binding.node`, // a PE x64 stand-in
    [`${win}/onnxruntime_binding.node`]: `${ort}/win32/x64/onnxruntime_binding.node`,
    [`${win}/onnxruntime.dll`]: `${ort}/win32/x64/onnxruntime.dll`,
    [`${win}/DirectML.dll`]: `${ort}/win32/x64/DirectML.dll`,
  };

  it('passes a win32-x64 folder of PE x64 files holding both bindings', () => {
    const { errors, lines } = checkNatives(folderNatives(stageHeads('win-ok', winFiles)), 'win32-x64');
    expect(errors).toEqual([]);
    expect(lines).toHaveLength(4);
  });

  it('fails a win32-x64 folder holding a linux binary, and one lacking libsql’s binding', () => {
    const withLinux = stageHeads('win-linux', {
      ...winFiles,
      [`${win}/stray.node`]: 'node_modules/@libsql/linux-x64-gnu/index.node',
    });
    expect(checkNatives(folderNatives(withLinux), 'win32-x64').errors).toEqual([
      `${win}/stray.node is linux-x64, not win32-x64`,
    ]);
    const { [`${RUNTIME_DIR}/@libsql/win32-x64-msvc/index.node`]: _libsql, ...lacking } = winFiles;
    expect(checkNatives(folderNatives(stageHeads('win-lacking', lacking)), 'win32-x64').errors).toEqual([
      `${RUNTIME_DIR}/@libsql/win32-x64-msvc/index.node (the win32-x64 binding) is missing`,
    ]);
  });

  it('fails an arm64 binary in an x64 VSIX of the same OS, and a universal file without the target’s slice', () => {
    const files = requiredNatives('darwin-arm64').map((path) => ({ path, head: macho(0x0100000c) }));
    expect(checkNatives(files, 'darwin-arm64').errors).toEqual([]);
    const universal = [...files, { path: 'dist/x.dylib', head: fat([0x01000007, 0x0100000c]) }];
    expect(checkNatives(universal, 'darwin-arm64').errors).toEqual([]); // macOS loads the arm64 slice
    const x64Only = [...files, { path: 'dist/y.dylib', head: fat([0x01000007]) }];
    expect(checkNatives(x64Only, 'darwin-arm64').errors).toEqual(['dist/y.dylib is darwin-x64, not darwin-arm64']);
    const linux = requiredNatives('linux-x64').map((path) => ({ path, head: elf(0x3e) }));
    expect(checkNatives([...linux, { path: 'dist/z.so.1', head: elf(0xb7) }], 'linux-x64').errors).toEqual([
      'dist/z.so.1 is linux-arm64, not linux-x64',
    ]);
  });

  it('refuses the targets no VSIX can be made for', () => {
    expect(() => requiredNatives('alpine-x64')).toThrow(/glibc/);
    expect(() => requiredNatives('win32-arm64')).toThrow(/libsql/);
  });
});

/** A zip (PKWARE APPNOTE 4.3) of stored (method 0) and deflated (method 8) entries, as vsce's yazl writes. */
function writeZip(path: string, entries: { name: string; data: Buffer; deflate: boolean }[]): void {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, deflate } of entries) {
    const body = deflate ? deflateRawSync(data) : data;
    const fields = (b: Buffer, at: number) => {
      b.writeUInt16LE(deflate ? 8 : 0, at); // compression method
      b.writeUInt32LE(crc32(data), at + 6);
      b.writeUInt32LE(body.length, at + 10);
      b.writeUInt32LE(data.length, at + 14);
      b.writeUInt16LE(name.length, at + 18);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields(local, 8);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    fields(central, 10);
    central.writeUInt32LE(offset, 42);
    locals.push(local, Buffer.from(name), body);
    centrals.push(central, Buffer.from(name));
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  writeFileSync(path, Buffer.concat([...locals, cd, eocd]));
}

describe('the VSIX (zip) reader', () => {
  it('reads the first bytes of stored and deflated entries, inflating only the head of a large one', () => {
    const big = Buffer.concat([pe(0xaa64), randomBytes(4 * HEAD_BYTES)]); // incompressible: 4x the head read
    const zip = join(tmp, 'test.vsix');
    writeZip(zip, [
      { name: 'extension.vsixmanifest', data: Buffer.from('<PackageManifest/>'), deflate: true },
      { name: 'extension/dist/node_modules/a/index.node', data: elf(0x3e), deflate: false },
      { name: 'extension/dist/node_modules/b/b.dll', data: big, deflate: true },
      { name: 'extension/dist/extension.js', data: Buffer.from('x'.repeat(100_000)), deflate: true },
    ]);
    const fd = openSync(zip, 'r');
    try {
      const entries = zipEntries(fd);
      expect(entries.map((e) => [e.name, e.method, e.size])).toEqual([
        ['extension.vsixmanifest', 8, 18],
        ['extension/dist/node_modules/a/index.node', 0, 64],
        ['extension/dist/node_modules/b/b.dll', 8, big.length],
        ['extension/dist/extension.js', 8, 100_000],
      ]);
      expect(zipEntryHead(fd, entries[0]).toString()).toBe('<PackageManifest/>');
      expect(zipEntryHead(fd, entries[2])).toEqual(big.subarray(0, HEAD_BYTES));
    } finally {
      closeSync(fd);
    }
    expect(vsixNatives(zip).map((f) => [f.path, nativeHeader(f.head).os, nativeHeader(f.head).archs])).toEqual([
      ['dist/node_modules/a/index.node', 'linux', ['x64']],
      ['dist/node_modules/b/b.dll', 'win32', ['arm64']],
    ]);
  });
});
