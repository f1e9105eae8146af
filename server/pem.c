/*
 * pem.c - reading PEM files (see pem.h).
 */
#include "pem.h"

#include <stdio.h>
#include <stdlib.h>

char *pem_read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *data = NULL;
  long size;
  if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size + 1)) != NULL) {
    if (fread(data, 1, (size_t)size, f) == (size_t)size) {
      data[size] = '\0';
    } else {
      free(data);
      data = NULL;
    }
  }
  if (f != NULL)
    fclose(f);
  return data;
}
