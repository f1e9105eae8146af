/*
 * pem.h - PEM files (certificates, private keys) read whole, as gRPC's SSL credentials take
 * them. Used by the server (--tls-*) and the client library (lc_options.tls_*).
 *
 * INTERFACE ROUTINES
 *   pem_read_file   a file's contents as a string
 */
#ifndef LOYALTY_PEM_H
#define LOYALTY_PEM_H

/* The contents of the file at path, NUL-terminated, malloc'ed: the caller frees it. NULL if
 * the file cannot be opened or read, or is empty (no PEM file is); the caller says so. */
char *pem_read_file(const char *path) __attribute__((warn_unused_result));

#endif
