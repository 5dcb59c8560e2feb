; array map lookup (inlined by the kernel), helpers, a 64-bit constant; {map_fd} is filled in
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[fd:{map_fd}]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto pc+3
r1 = *(u64 *)(r0 +0)
r1 += 1
*(u64 *)(r0 +0) = r1
call bpf_ktime_get_ns#5
r6 = r0
call bpf_get_prandom_u32#7
r0 += r6
r1 = 0x123456789abcdef0 ll
r0 ^= r1
r0 = 0
exit
