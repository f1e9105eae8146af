/*
 * test_pem.c - PEM files read whole; a missing or empty file is NULL.
 */
#include <stdlib.h>
#include <unistd.h>

#include "pem.h"
#include "unit.h"

static const char *write_temp(char *path, const char *text)
{
  int fd = mkstemp(path);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
    return NULL;
  close(fd);
  return path;
}

int main(void)
{
  static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  char full[] = "/tmp/test_pem_XXXXXX", empty[] = "/tmp/test_pem_XXXXXX";
  CHECK(write_temp(full, pem) != NULL, "temporary file");
  CHECK(write_temp(empty, "") != NULL, "temporary file");

  char *data = pem_read_file(full);
  CHECK(data != NULL && strcmp(data, pem) == 0, "got %s", data ? data : "NULL");
  free(data);
  data = pem_read_file(empty);
  CHECK(data == NULL, "an empty file");
  free(data);
  data = pem_read_file("/nonexistent/file.pem");
  CHECK(data == NULL, "a missing file");
  free(data);

  unlink(full);
  unlink(empty);
  UNIT_DONE();
}
