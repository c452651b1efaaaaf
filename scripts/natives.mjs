// Which platform a native file is built for, from its header; the VSIX targets and the native files each
// must hold; a reader of a VSIX's (zip's) entries that inflates only the first bytes of each.
// `node scripts/natives.mjs <target> <file.vsix | staging folder>` prints one line per native file and exits 1
// on a file of another platform or architecture, an unknown format, or a missing binding.
//
// Formats (offsets in bytes from the start of the file):
// - ELF (System V ABI, gABI "ELF Header", https://www.sco.com/developers/gabi/latest/ch4.eheader.html):
//   e_ident 7f 'E' 'L' 'F'; EI_CLASS at 4 (1: 32-bit, 2: 64-bit); EI_DATA at 5 (1: little-, 2: big-endian);
//   e_machine (Elf_Half) at 18: EM_386 3, EM_ARM 40, EM_X86_64 62 (0x3E), EM_AARCH64 183 (0xB7).
// - Mach-O (Apple's <mach-o/loader.h>, <mach-o/fat.h>, <mach/machine.h>): mach_header.magic MH_MAGIC 0xfeedface
//   or MH_MAGIC_64 0xfeedfacf in the file's byte order (MH_CIGAM/MH_CIGAM_64 when read in the other one), then
//   cputype at 4: CPU_TYPE_X86 7, CPU_TYPE_X86_64 0x01000007, CPU_TYPE_ARM 12, CPU_TYPE_ARM64 0x0100000C
//   (CPU_ARCH_ABI64 0x01000000 | the 32-bit type). Universal ("fat") files: big-endian fat_header FAT_MAGIC
//   0xcafebabe (or FAT_MAGIC_64 0xcafebabf), nfat_arch at 4, then nfat_arch fat_arch records from 8, each
//   cputype, cpusubtype, offset, size, align (20 bytes; fat_arch_64: 64-bit offset and size, 32 bytes).
// - PE (Microsoft, "PE Format", https://learn.microsoft.com/windows/win32/debug/pe-format): MS-DOS header 'MZ';
//   the file offset of the PE signature (e_lfanew) at 0x3C, 32-bit little-endian; signature "PE\0\0"; the COFF
//   file header's Machine (16-bit LE) right after it: IMAGE_FILE_MACHINE_I386 0x14C, AMD64 0x8664, ARMNT 0x1C4,
//   ARM64 0xAA64, ARM64EC 0xA641.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';

/** How many bytes of a file nativeHeader needs (a PE header usually lies within the first 512 bytes). */
export const HEAD_BYTES = 64 * 1024;

const ELF_MACHINES = { 3: 'ia32', 40: 'arm', 62: 'x64', 183: 'arm64' };
const MACHO_CPUS = { 7: 'ia32', 0x01000007: 'x64', 12: 'arm', 0x0100000c: 'arm64' };
const PE_MACHINES = { 0x14c: 'ia32', 0x8664: 'x64', 0x1c4: 'arm', 0xaa64: 'arm64', 0xa641: 'arm64ec' };
const hex = (n) => `0x${n.toString(16)}`;

/**
 * The platform a native file is built for, from the first bytes of it (HEAD_BYTES are enough).
 * os is Node's process.platform name (linux for ELF, darwin for Mach-O, win32 for PE); archs are Node's
 * process.arch names (several for a universal Mach-O file), or 'unknown (0x…)' for a machine not listed above.
 * @param {Uint8Array} bytes
 * @returns {{ format: 'elf' | 'macho' | 'pe' | 'unknown', os?: string, archs: string[], universal?: true, detail: string }}
 */
export function nativeHeader(bytes) {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const unknown = (detail) => ({ format: /** @type {const} */ ('unknown'), archs: [], detail });
  if (b.length < 4) return unknown(`${b.length} bytes: too short for a header`);
  if (b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) {
    if (b.length < 20) return unknown('ELF header cut short');
    const bits = b[4] === 2 ? 64 : b[4] === 1 ? 32 : 0;
    const little = b[5] === 1;
    const machine = little ? b.readUInt16LE(18) : b.readUInt16BE(18);
    const arch = ELF_MACHINES[machine] ?? `unknown (e_machine ${hex(machine)})`;
    return {
      format: 'elf',
      os: 'linux',
      archs: [arch],
      detail: `ELF ${bits || '?'}-bit ${little ? 'LSB' : 'MSB'}, e_machine ${hex(machine)}`,
    };
  }
  const be = b.readUInt32BE(0);
  const le = b.readUInt32LE(0);
  if (be === 0xcafebabe || be === 0xcafebabf) {
    const wide = be === 0xcafebabf;
    const n = b.length >= 8 ? b.readUInt32BE(4) : 0;
    const size = wide ? 32 : 20;
    if (n === 0 || n > 32 || b.length < 8 + n * size) return unknown(`universal header with ${n} architectures`);
    const cpus = Array.from({ length: n }, (_, i) => b.readUInt32BE(8 + i * size));
    return {
      format: 'macho',
      os: 'darwin',
      universal: true,
      archs: cpus.map((c) => MACHO_CPUS[c] ?? `unknown (cputype ${hex(c)})`),
      detail: `Mach-O universal${wide ? ' (64-bit offsets)' : ''}, cputypes ${cpus.map(hex).join(', ')}`,
    };
  }
  for (const [magic, read] of [
    [le, (/** @type {number} */ o) => b.readUInt32LE(o)],
    [be, (/** @type {number} */ o) => b.readUInt32BE(o)],
  ]) {
    if ((magic === 0xfeedface || magic === 0xfeedfacf) && b.length >= 8) {
      const cpu = read(4);
      return {
        format: 'macho',
        os: 'darwin',
        archs: [MACHO_CPUS[cpu] ?? `unknown (cputype ${hex(cpu)})`],
        detail: `Mach-O ${magic === 0xfeedfacf ? '64' : '32'}-bit, cputype ${hex(cpu)}`,
      };
    }
  }
  if (b[0] === 0x4d && b[1] === 0x5a) {
    if (b.length < 0x40) return unknown('MZ header cut short');
    const pe = b.readUInt32LE(0x3c);
    if (b.length < pe + 6) return unknown(`PE signature at ${hex(pe)}, past the ${b.length} bytes read`);
    if (b.readUInt32BE(pe) !== 0x50450000) return unknown(`MZ file without "PE\\0\\0" at ${hex(pe)}`);
    const machine = b.readUInt16LE(pe + 4);
    return {
      format: 'pe',
      os: 'win32',
      archs: [PE_MACHINES[machine] ?? `unknown (Machine ${hex(machine)})`],
      detail: `PE, Machine ${hex(machine)}`,
    };
  }
  return unknown(`magic ${b.subarray(0, 4).toString('hex')}: not ELF, Mach-O or PE`);
}

/** A file that holds machine code: a Node addon, a shared library, a DLL or a dylib. */
export const isNativeFile = (name) => /\.(node|so(\.\d+)*|dll|dylib)$/i.test(name);

/**
 * The VSIX targets of `vsce package --target`. libsql: the @libsql package libsql 0.5's loader requires there
 * (@neon-rs/load's currentTarget); ort: onnxruntime-node's bin/napi-v6/<os>/<arch> folder; refused: why no
 * VSIX can be made for it whatever the installed packages hold.
 * @type {Record<string, { os: string, arch: string, libsql?: string, refused?: string }>}
 */
export const TARGETS = {
  'linux-x64': { os: 'linux', arch: 'x64', libsql: '@libsql/linux-x64-gnu' },
  'linux-arm64': { os: 'linux', arch: 'arm64', libsql: '@libsql/linux-arm64-gnu' },
  'darwin-arm64': { os: 'darwin', arch: 'arm64', libsql: '@libsql/darwin-arm64' },
  'darwin-x64': { os: 'darwin', arch: 'x64', libsql: '@libsql/darwin-x64' },
  'win32-x64': { os: 'win32', arch: 'x64', libsql: '@libsql/win32-x64-msvc' },
  'win32-arm64': {
    os: 'win32',
    arch: 'arm64',
    refused: 'libsql 0.5 publishes no win32-arm64 build (libsql/package.json neon.targets has none)',
  },
  'linux-armhf': { os: 'linux', arch: 'arm', libsql: '@libsql/linux-arm-gnueabihf' },
  'alpine-x64': {
    os: 'linux',
    arch: 'x64',
    refused:
      "onnxruntime-node's linux binaries are glibc builds (libonnxruntime.so.1 needs libc.so.6, ld-linux-x86-64.so.2 and GLIBC_2.28 symbols); Alpine's musl cannot load them",
  },
  'alpine-arm64': {
    os: 'linux',
    arch: 'arm64',
    refused:
      "onnxruntime-node's linux binaries are glibc builds (libonnxruntime.so.1 needs libc.so.6, ld-linux-aarch64.so.1 and GLIBC_2.28 symbols); Alpine's musl cannot load them",
  },
  web: { os: 'web', arch: '', refused: 'the extension runs Node native modules (libsql, onnxruntime-node)' },
};

/** Where a VSIX holds the run-time packages (scripts/package-vsix.mjs says why not in node_modules/). */
export const RUNTIME_DIR = 'dist/node_modules';

/** The bindings a VSIX for the target must hold, as paths under the extension folder. */
export function requiredNatives(target) {
  const t = TARGETS[target];
  if (!t?.libsql) throw new Error(`no VSIX for ${target}: ${t?.refused ?? 'unknown target'}`);
  return [
    `${RUNTIME_DIR}/${t.libsql}/index.node`,
    `${RUNTIME_DIR}/onnxruntime-node/bin/napi-v6/${t.os}/${t.arch}/onnxruntime_binding.node`,
  ];
}

/**
 * Checks the native files of one target's VSIX (paths relative to the extension folder, with their first bytes):
 * every one must be of the target's format (ELF, Mach-O or PE) and architecture (a universal Mach-O file must
 * hold a slice of it: macOS loads that one), and the target's bindings must be among them.
 * @param {{ path: string, head: Uint8Array }[]} files
 * @param {string} target
 * @returns {{ lines: string[], errors: string[] }}
 */
export function checkNatives(files, target) {
  const { os, arch } = TARGETS[target] ?? {};
  const lines = [];
  const errors = [];
  for (const { path, head } of files) {
    const h = nativeHeader(head);
    const ok =
      h.os === os && h.archs.length > 0 && (h.universal ? h.archs.includes(arch) : h.archs.every((a) => a === arch));
    lines.push(`${ok ? 'ok  ' : 'FAIL'} ${path}: ${h.detail}${h.os ? ` -> ${h.os}-${h.archs.join('+')}` : ''}`);
    if (!ok) errors.push(`${path} is ${h.os ? `${h.os}-${h.archs.join('+')}` : h.detail}, not ${target}`);
  }
  const present = new Set(files.map((f) => f.path));
  for (const needed of requiredNatives(target)) {
    if (!present.has(needed)) {
      lines.push(`FAIL ${needed}: missing`);
      errors.push(`${needed} (the ${target} binding) is missing`);
    }
  }
  return { lines, errors };
}

/**
 * The entries of a zip file (a VSIX) from its central directory (PKWARE APPNOTE.TXT 4.3: end of central
 * directory record 0x06054b50, central file headers 0x02014b50, local file headers 0x04034b50; no zip64:
 * vsce's VSIXs are far below 4 GiB and 65,535 entries).
 * @param {number} fd an open file
 * @returns {{ name: string, method: number, compressedSize: number, size: number, localOffset: number }[]}
 */
export function zipEntries(fd) {
  const fileSize = fstatSync(fd).size;
  const tailSize = Math.min(fileSize, 22 + 0xffff);
  const tail = Buffer.alloc(tailSize);
  readSync(fd, tail, 0, tailSize, fileSize - tailSize);
  let eocd = -1;
  for (let i = tailSize - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory record');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  const cd = Buffer.alloc(cdSize);
  readSync(fd, cd, 0, cdSize, cdOffset);
  const entries = [];
  for (let p = 0, i = 0; i < count; i++) {
    if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory header at ${cdOffset + p}`);
    const nameLength = cd.readUInt16LE(p + 28);
    entries.push({
      name: cd.toString('utf8', p + 46, p + 46 + nameLength),
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
    });
    p += 46 + nameLength + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
  }
  return entries;
}

/**
 * The first bytes (up to max) of a zip entry, inflating only as much of a deflated entry as that needs.
 * @param {number} fd
 * @param {{ name: string, method: number, compressedSize: number, localOffset: number }} entry
 */
export function zipEntryHead(fd, entry, max = HEAD_BYTES) {
  const local = Buffer.alloc(30);
  readSync(fd, local, 0, 30, entry.localOffset);
  if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`bad local header for ${entry.name}`);
  const start = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (entry.method === 0) {
    const n = Math.min(max, entry.compressedSize);
    const out = Buffer.alloc(n);
    readSync(fd, out, 0, n, start);
    return out;
  }
  if (entry.method !== 8) throw new Error(`${entry.name}: compression method ${entry.method} is not deflate`);
  // deflate rarely expands data much; 2 × max compressed bytes (or the whole entry) hold at least max bytes
  const n = Math.min(entry.compressedSize, 2 * max + 1024);
  const compressed = Buffer.alloc(n);
  readSync(fd, compressed, 0, n, start);
  const out = inflateRawSync(compressed, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return out.subarray(0, max);
}

/** The native files of a VSIX with their first bytes, as paths under extension/ (the prefix taken off). */
export function vsixNatives(vsixPath) {
  const fd = openSync(vsixPath, 'r');
  try {
    return zipEntries(fd)
      .filter((e) => e.name.startsWith('extension/') && isNativeFile(e.name))
      .map((e) => ({ path: e.name.slice('extension/'.length), head: zipEntryHead(fd, e) }));
  } finally {
    closeSync(fd);
  }
}

/** The native files under a folder (a staging folder) with their first bytes, as paths relative to it. */
export function folderNatives(dir) {
  const found = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (isNativeFile(entry.name))
        found.push({ path: relative(dir, full).split(sep).join('/'), head: readHead(full) });
    }
  };
  walk(dir);
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/** The first bytes of a file. */
export function readHead(path, max = HEAD_BYTES) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(max);
    return buf.subarray(0, readSync(fd, buf, 0, max, 0));
  } finally {
    closeSync(fd);
  }
}

if (process.argv[1] && import.meta.filename === realpathSync(process.argv[1])) {
  const [target, where] = process.argv.slice(2);
  if (!target || !where || !existsSync(where)) {
    console.error('usage: node scripts/natives.mjs <target> <file.vsix | staging folder>');
    process.exit(2);
  }
  const { lines, errors } = checkNatives(
    statSync(where).isDirectory() ? folderNatives(where) : vsixNatives(where),
    target,
  );
  for (const line of lines) console.log(line);
  if (errors.length) {
    console.error(`native check failed for ${target}: ${errors.join('; ')}`);
    process.exit(1);
  }
  console.log(`native check passed for ${target}: ${lines.length} files`);
}
