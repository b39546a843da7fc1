/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Replays fuzz inputs (files, or every file in directories) through the
 * target without libFuzzer, so the corpus runs under plain builds and ASan.
 */
#include "fuzz.h"

#include <glib.h>
#include <stdio.h>

static int replay_file(const char *path)
{
    char *data = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (!g_file_get_contents(path, &data, &len, &e)) {
        fprintf(stderr, "%s\n", e->message);
        g_error_free(e);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    g_free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0;
    for (int i = 1; i < argc; i++) {
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            GDir *d = g_dir_open(argv[i], 0, NULL);
            const char *name;
            while (d && (name = g_dir_read_name(d))) {
                char *p = g_build_filename(argv[i], name, NULL);
                if (replay_file(p) < 0)
                    return 1;
                files++;
                g_free(p);
            }
            if (d)
                g_dir_close(d);
        } else {
            if (replay_file(argv[i]) < 0)
                return 1;
            files++;
        }
    }
    if (files == 0) {
        fprintf(stderr, "no inputs replayed\n");
        return 1;
    }
    printf("replayed %d inputs\n", files);
    return 0;
}
