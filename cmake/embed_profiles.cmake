# SPDX-License-Identifier: GPL-2.0-or-later
# Writes OUT, a C file holding the text of each profile in NAMES (read from
# DIR/<name>.ini), so that an installed udsflash carries its built-in
# profiles. Run as: cmake -DDIR=... -DNAMES=a,b -DOUT=... -P embed_profiles.cmake
string(REPLACE "," ";" NAMES "${NAMES}")
set(body "/* Generated from the profiles folder by cmake/embed_profiles.cmake. */\n#include \"uf_profile.h\"\n\n")
set(table "")
set(i 0)
foreach(name IN LISTS NAMES)
  file(READ "${DIR}/${name}.ini" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR bytes "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char profile_${i}[${bytes} + 1] = {${hex} 0};\n")
  string(APPEND table "    {\"${name}\", profile_${i}, ${bytes}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "
static const struct {
    const char *name;
    const char *text;
    size_t len;
} builtins[] = {
${table}};

size_t uf_profile_builtin_count(void)
{
    return sizeof(builtins) / sizeof(builtins[0]);
}

const char *uf_profile_builtin_name(size_t i)
{
    return i < uf_profile_builtin_count() ? builtins[i].name : NULL;
}

const char *uf_profile_builtin_text(size_t i, size_t *len)
{
    if (i >= uf_profile_builtin_count())
        return NULL;
    *len = builtins[i].len;
    return builtins[i].text;
}
")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
