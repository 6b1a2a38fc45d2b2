#pragma once

namespace gh {

// Raises the soft limit on open files (RLIMIT_NOFILE) to the hard limit, on POSIX systems: every
// client connection and every upstream connection holds a descriptor, and desktop sessions often
// start programs with a soft limit of 1024. Returns the soft limit in effect afterwards, or -1
// where there is no such limit to read (Windows).
int raiseOpenFileLimit();
// The soft limit on open files now, or -1 where there is none to read.
[[nodiscard]] int openFileLimit();

} // namespace gh
