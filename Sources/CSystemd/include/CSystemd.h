// Thin shim over libsystemd for Swift: headers only, no logic.
//
// sd_notifyf, sd_journal_send and sd_journal_print are variadic and do not
// import into Swift; SystemdSupport formats in Swift and calls sd_notify and
// sd_journal_sendv instead.
#ifndef CSYSTEMD_H
#define CSYSTEMD_H

// Without this, sd-journal.h turns sd_journal_sendv into a macro that adds
// CODE_FILE/CODE_LINE/CODE_FUNC of this header, which would be misleading.
#define SD_JOURNAL_SUPPRESS_LOCATION 1

#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#endif
