/* fuzz_toml.c: libFuzzer target for the TOML parser (lib/toml.c): any bytes in, a tree or one
 * error line out, never a crash, a leak or a read out of bounds; an error line has one line. */
#include <stdint.h>
#include <string.h>

#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *root = NULL;
	char err[256];

	if (toml_parse((const char *)data, size, "fuzz.toml", &root, err, sizeof(err)) == 0) {
		(void)toml_get(root, "input");
		toml_free(&root);
	} else if (strchr(err, '\n')) {
		__builtin_trap(); /* the contract: one line */
	}
	return 0;
}
