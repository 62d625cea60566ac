/* fuzz_proto.c: libFuzzer target for the record unpacker (proto/proto.c), what a stage
 * process or a rogue peer sends: any bytes in, a record or a refusal, never a crash or a read
 * out of bounds; a record that unpacks packs again to bytes that unpack to the same record. */
#include <stdint.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[1 << 16];
	struct vhs_msg m, again;
	int n;

	if (vhs_proto_unpack(&m, data, size) != 0)
		return 0;
	(void)vhs_proto_type_name(m.type);
	n = vhs_proto_pack(&m, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	if (vhs_proto_unpack(&again, buf, (size_t)n) != 0 || vhs_proto_pack(&again, buf + 0, sizeof(buf)) != n)
		__builtin_trap(); /* what packs must unpack, to the same size */
	return 0;
}
