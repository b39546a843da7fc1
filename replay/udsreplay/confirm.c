/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Asking before udsreplay drives a real bus or a remote DoIP entity:
 * flashing and reproducing erase ECUs. Virtual interfaces (vcan) and
 * loopback are not asked about.
 */
#include "udsreplay.h"

#include <stdio.h>
#include <string.h>

/* A real CAN interface has a device behind it; vcan and the like do not. */
bool ur_real_interface(const char *ifname)
{
    char *path = g_strdup_printf("/sys/class/net/%s/device", ifname);
    bool real = g_file_test(path, G_FILE_TEST_EXISTS);
    g_free(path);
    return real;
}

bool ur_loopback_host(const char *host)
{
    return strcmp(host, "localhost") == 0 || g_str_has_prefix(host, "127.") ||
           strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

bool ur_confirm(const char *command, const char *target, const char *action,
                const char *consequence)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) {
        fprintf(stderr, "udsreplay %s: %s is a real bus or entity and there is no terminal to "
                        "ask: give --yes to go ahead\n", command, target);
        return false;
    }
    fprintf(tty, "%s %s? %s [y/N] ", action, target, consequence);
    fflush(tty);
    char line[16] = "";
    bool yes = fgets(line, sizeof(line), tty) && (line[0] == 'y' || line[0] == 'Y');
    fclose(tty);
    return yes;
}
