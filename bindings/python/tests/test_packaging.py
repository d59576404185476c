"""The installed package bundles the library as it ships: without debug info."""
import struct
import sys

import pytest

from ad import _lib


def elf_section_names(path):
    """The names of an ELF64 little-endian file's sections, read from its section headers."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit little-endian ELF file"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i):  # (name offset, file offset, size)
        base = shoff + i * shentsize
        name, = struct.unpack_from("<I", data, base)
        offset, size = struct.unpack_from("<QQ", data, base + 0x18)
        return name, offset, size

    _, strings, _ = header(shstrndx)
    names = []
    for i in range(shnum):
        name, _, _ = header(i)
        names.append(data[strings + name:data.index(b"\0", strings + name)].decode())
    return names


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the ELF sections of the Linux library")
def test_bundled_library_has_no_debug_info():
    names = elf_section_names(_lib.path)
    assert ".text" in names and ".dynsym" in names
    assert not [n for n in names if n.startswith(".debug")], "%s carries debug info" % _lib.path
