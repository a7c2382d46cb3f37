//! Pre-dlopen checks of a model file: it exists, is readable, is a 64-bit little-endian ELF shared
//! object for this machine, and is not truncated (its program and section header tables and every
//! loadable segment lie inside the file). `dlopen` of a truncated file can map pages past the end
//! of the file and crash on first touch, so this runs first.

use crate::error::Error;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const ET_DYN: u16 = 3;
const PT_LOAD: u32 = 1;
const EHDR_LEN: usize = 64;
const PHDR_LEN: usize = 56;

/// The ELF machine number of the host and its name.
fn host_machine() -> (u16, &'static str) {
    if cfg!(target_arch = "x86_64") {
        (62, "x86_64")
    } else if cfg!(target_arch = "aarch64") {
        (183, "aarch64")
    } else if cfg!(target_arch = "riscv64") {
        (243, "riscv64")
    } else {
        (0, std::env::consts::ARCH)
    }
}

fn machine_name(machine: u16) -> String {
    match machine {
        3 => "i386".into(),
        40 => "arm".into(),
        62 => "x86_64".into(),
        183 => "aarch64".into(),
        243 => "riscv".into(),
        other => format!("ELF machine {other}"),
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// Check that `path` is a loadable ELF shared object for this host.
pub fn check_shared_object(path: &Path) -> Result<(), Error> {
    let unreadable = |e: std::io::Error| Error::Unreadable { path: path.to_path_buf(), cause: e.to_string() };
    let not_so = |cause: String| Error::NotSharedObject { path: path.to_path_buf(), cause };

    let mut file = File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(not_so("not a regular file".into()));
    }
    let file_len = meta.len();

    let mut ehdr = [0u8; EHDR_LEN];
    let got = read_up_to(&mut file, &mut ehdr).map_err(unreadable)?;
    if got < 4 || ehdr[..4] != *b"\x7fELF" {
        return Err(not_so("no ELF magic".into()));
    }
    if got < EHDR_LEN {
        return Err(not_so(format!("truncated ELF header ({got} bytes)")));
    }
    if ehdr[4] != 2 || ehdr[5] != 1 {
        return Err(not_so("not a 64-bit little-endian ELF file".into()));
    }
    let e_type = u16_at(&ehdr, 16);
    if e_type != ET_DYN {
        return Err(not_so(format!("ELF type {e_type}, expected a shared library (3)")));
    }
    let machine = u16_at(&ehdr, 18);
    let (host, host_name) = host_machine();
    if machine != host {
        return Err(not_so(format!("built for {}, this host is {host_name}", machine_name(machine))));
    }

    let truncated =
        |what: &str, end: u64| not_so(format!("truncated: {what} ends at byte {end}, the file has {file_len} bytes"));
    let table_end = |off: u64, entsize: u16, num: u16| off.checked_add(u64::from(entsize) * u64::from(num));

    let (phoff, phentsize, phnum) = (u64_at(&ehdr, 0x20), u16_at(&ehdr, 0x36), u16_at(&ehdr, 0x38));
    let (shoff, shentsize, shnum) = (u64_at(&ehdr, 0x28), u16_at(&ehdr, 0x3a), u16_at(&ehdr, 0x3c));
    if phnum == 0 || usize::from(phentsize) < PHDR_LEN {
        return Err(not_so("no program headers".into()));
    }
    let ph_end = table_end(phoff, phentsize, phnum).unwrap_or(u64::MAX);
    if ph_end > file_len {
        return Err(truncated("the program header table", ph_end));
    }
    let sh_end = table_end(shoff, shentsize, shnum).unwrap_or(u64::MAX);
    if shnum > 0 && sh_end > file_len {
        return Err(truncated("the section header table", sh_end));
    }

    let mut phdrs = vec![0u8; usize::from(phentsize) * usize::from(phnum)];
    file.seek(SeekFrom::Start(phoff)).map_err(unreadable)?;
    file.read_exact(&mut phdrs).map_err(unreadable)?;
    for ph in phdrs.chunks_exact(usize::from(phentsize)) {
        if u32_at(ph, 0) != PT_LOAD {
            continue;
        }
        let end = u64_at(ph, 8).saturating_add(u64_at(ph, 32));
        if end > file_len {
            return Err(truncated("a loadable segment", end));
        }
    }
    Ok(())
}

/// Read until `buf` is full or the file ends; returns the bytes read.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
