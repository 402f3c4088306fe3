"""Peak resident memory of this process, for the benchmarks (Linux first, any POSIX after)."""

from __future__ import annotations

from pathlib import Path


def peak_mib() -> float:
    """This process's peak RSS in MiB.

    Linux's VmHWM belongs to the process's own memory map; `ru_maxrss` of a child started by a
    large parent can report the parent's size (the high-water mark survives fork and exec).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Restart the peak RSS count from the current RSS (Linux ≥ 4.0); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False
