; cpu v4 forms (sdiv/smod, movsx, sign-extending loads, bswap, gotol), may_goto, a local call
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 s/= r3
r4 s%= 7
w5 = w2
w5 s/= w3
w5 s%= -3
r6 = (s8)r2
r6 = (s16)r2
r6 = (s32)r2
w7 = (s8)w2
w7 = (s16)w2
*(u64 *)(r10 -8) = r2
r8 = *(s8 *)(r10 -8)
r8 = *(s16 *)(r10 -8)
r8 = *(s32 *)(r10 -8)
r2 = bswap16 r2
r2 = bswap32 r2
r2 = bswap64 r2
r0 = 0
if r2 > 5 goto +1
gotol +1
r0 = 2
may_goto +1
r0 = 3
call sub
exit
sub:
r0 = 1
exit
