; ALU64/ALU32 in both operand forms, byte order, every jump comparison (socket filter)
r6 = r1
r2 = *(u32 *)(r6 +0)
r3 = *(u32 *)(r6 +4)
r0 = 0
r1 = 5
r4 = r2
r4 += 3
r4 -= r1
r4 *= 7
r4 /= 3
r4 |= 0x10
r4 &= r2
r4 <<= 4
r4 >>= 1
r4 %= 5
r4 ^= -1
r4 s>>= 2
r4 /= r3
r4 %= r3
r4 = -r4
w5 = 7
w5 += w2
w5 -= 1
w5 *= w5
w5 /= 2
w5 %= w1
w5 <<= 3
w5 >>= w1
w5 s>>= 1
w5 = -w5
w5 ^= 0xff
w5 = w3
r3 = be16 r3
r3 = le32 r3
r3 = be64 r3
if r2 == 0x3 goto +1
if r2 != r3 goto pc+1
if r2 > 10 goto +1
if r2 >= r3 goto +1
if r2 < 10 goto +1
if r2 <= r3 goto +1
if r2 & 0x4 goto +1
if r2 s> -1 goto +1
if r2 s>= r3 goto +1
if r2 s< 0 goto +1
if r2 s<= r3 goto +1
if w2 == 0x3 goto +1
if w2 != w3 goto +1
if w2 > 0xfffffff0 goto +1
if w2 s< w3 goto +1
if w2 & w3 goto +1
goto +1
r0 = 1
exit
