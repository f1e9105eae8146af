# embed_sql.cmake - turns db/schema/*.sql and db/functions/*.sql into a C file at build time,
# so loyaltyd carries its database code with it (server/migrate.c applies it).
#   cmake -DSCHEMA_DIR=... -DFUNCTIONS_DIR=... -DOUT=... -P embed_sql.cmake
# Schema files go in name order, each with its SHA-256. Function files go in name order with
# triggers.sql last (a trigger needs its function); the set's version is
# db/functions/VERSION, its SHA-256 that of every file's name and SHA-256.

function(c_bytes path out)
  file(READ ${path} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  set(${out} "{${bytes}0x00}" PARENT_SCOPE)
endfunction()

set(body "/* Generated from db/schema and db/functions by embed_sql.cmake: do not edit. */\n")
string(APPEND body "#include \"migrate.h\"\n\n")

file(GLOB schema RELATIVE ${SCHEMA_DIR} ${SCHEMA_DIR}/*.sql)
list(SORT schema)
set(table "const sql_file schema_files[] = {\n")
set(i 0)
foreach(f ${schema})
  c_bytes(${SCHEMA_DIR}/${f} bytes)
  file(SHA256 ${SCHEMA_DIR}/${f} sha)
  string(APPEND body "static const char schema_${i}[] = ${bytes};\n")
  string(APPEND table "  {\"${f}\", schema_${i}, \"${sha}\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND table "};\nconst int n_schema_files = ${i};\n\n")

file(GLOB functions RELATIVE ${FUNCTIONS_DIR} ${FUNCTIONS_DIR}/*.sql)
list(SORT functions)
list(REMOVE_ITEM functions triggers.sql)
list(APPEND functions triggers.sql)
string(APPEND table "const sql_file function_files[] = {\n")
set(i 0)
set(digests "")
foreach(f ${functions})
  c_bytes(${FUNCTIONS_DIR}/${f} bytes)
  file(SHA256 ${FUNCTIONS_DIR}/${f} sha)
  string(APPEND digests "${f}:${sha};")
  string(APPEND body "static const char function_${i}[] = ${bytes};\n")
  string(APPEND table "  {\"${f}\", function_${i}, \"${sha}\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(SHA256 set_sha "${digests}")
file(STRINGS ${FUNCTIONS_DIR}/VERSION version LIMIT_COUNT 1)
string(STRIP "${version}" version)
if(NOT version MATCHES "^[0-9]+$")
  message(FATAL_ERROR "db/functions/VERSION must be a whole number, not '${version}'")
endif()
string(APPEND table "};\nconst int n_function_files = ${i};\n")
string(APPEND table "const int function_set_version = ${version};\n")
string(APPEND table "const char function_set_sha256[] = \"${set_sha}\";\n")

file(WRITE ${OUT}.tmp "${body}\n${table}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
