using FlashAttention.Cuda.Kernels;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>The kernels' index arithmetic, checked on the host against the core library and brute force.</summary>
public class TileMathTests
{
    [Fact]
    public void KeyBlockRangeMatchesBlockInfo()
    {
        var random = new Random(1234);
        for (int trial = 0; trial < 20000; trial++)
        {
            int seqQ = random.Next(0, 300), seqK = random.Next(0, 300);
            int wl = random.Next(-1, 40), wr = random.Next(-1, 40);
            if (random.Next(4) == 0)
                wr = 0; // causal
            int blockM = new[] { 64, 128 }[random.Next(2)], blockN = new[] { 32, 48, 64, 128 }[random.Next(4)];
            int qStart = seqQ == 0 ? 0 : random.Next(0, seqQ) / blockM * blockM;
            int qEnd = Math.Min(qStart + blockM, seqQ);
            var expected = BlockInfo.KeyBlocks(wl, wr, qStart, qEnd, seqQ, seqK, blockN);
            Assert.Equal(expected.First, TileMath.KeyBlockFirst(wl, wr, qStart, qEnd, seqQ, seqK, blockN));
            Assert.Equal(expected.End, TileMath.KeyBlockEnd(wl, wr, qStart, qEnd, seqQ, seqK, blockN));
        }
    }

    [Fact]
    public void QueryBlockRangeMatchesBlockInfo()
    {
        var random = new Random(4321);
        for (int trial = 0; trial < 20000; trial++)
        {
            int seqQ = random.Next(0, 300), seqK = random.Next(0, 300);
            int wl = random.Next(-1, 40), wr = random.Next(-1, 40);
            if (random.Next(4) == 0)
                wr = 0; // causal
            int blockM = new[] { 32, 64, 128 }[random.Next(3)], blockN = new[] { 32, 64, 128 }[random.Next(3)];
            int kStart = seqK == 0 ? 0 : random.Next(0, seqK) / blockN * blockN;
            int kEnd = Math.Min(kStart + blockN, seqK);
            var expected = BlockInfo.QueryBlocks(wl, wr, kStart, kEnd, seqQ, seqK, blockM);
            Assert.Equal(expected.First, TileMath.QueryBlockFirst(wl, wr, kStart, kEnd, seqQ, seqK, blockM));
            Assert.Equal(expected.End, TileMath.QueryBlockEnd(wl, wr, kStart, kEnd, seqQ, seqK, blockM));
        }
    }

    [Fact]
    public void TileNeedsMaskExactlyWhenSomeKeyIsHidden()
    {
        var random = new Random(99);
        for (int trial = 0; trial < 3000; trial++)
        {
            int seqQ = random.Next(1, 200), seqK = random.Next(1, 200);
            int wl = random.Next(-1, 30), wr = random.Next(-1, 30);
            int blockM = 64, blockN = new[] { 32, 48, 64 }[random.Next(3)];
            int qStart = random.Next(0, seqQ) / blockM * blockM;
            int qEnd = Math.Min(qStart + blockM, seqQ);
            var (first, end) = BlockInfo.KeyBlocks(wl, wr, qStart, qEnd, seqQ, seqK, blockN);
            for (int block = first; block < end; block++)
            {
                bool hidden = false;
                for (int i = qStart; i < qEnd && !hidden; i++)
                    for (int j = block * blockN; j < (block + 1) * blockN && !hidden; j++)
                        hidden = !Visible(i, j, seqQ, seqK, wl, wr);
                Assert.Equal(hidden, TileMath.TileNeedsMask(block, blockN, wl, wr, qStart, qEnd, seqQ, seqK));
            }
        }
    }

    private static bool Visible(int i, int j, int seqQ, int seqK, int wl, int wr)
    {
        long diagonal = i + (long)seqK - seqQ;
        return j < seqK && (wl < 0 || j >= diagonal - wl) && (wr < 0 || j <= diagonal + wr);
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    public void SwizzleIsABijectionAndLdmatrixConflictFree(int rowBytes)
    {
        int chunks = rowBytes / 16, rows = 64;
        var seen = new HashSet<int>();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < chunks; c++)
            {
                int offset = TileMath.SwizzledOffset(r, c, rowBytes);
                Assert.InRange(offset, r * rowBytes, (r + 1) * rowBytes - 16);
                Assert.True(seen.Add(offset));
            }
        // An ldmatrix phase reads one 16-byte chunk from each of 8 consecutive rows at one logical column: the 8 chunks
        // must land in 8 different groups of 4 banks.
        for (int r0 = 0; r0 < rows; r0 += 8)
            for (int c = 0; c < chunks; c++)
            {
                var groups = Enumerable.Range(r0, 8).Select(r => TileMath.SwizzledOffset(r, c, rowBytes) / 16 % 8).ToHashSet();
                Assert.Equal(8, groups.Count);
            }
    }
    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(7, 5, 0)]
    [InlineData(13, 6, 1)]
    [InlineData(8, 256, 4)]
    [InlineData(128, 16, 2)]
    public void GroupedOrderVisitsEveryBlockOnceInTurnsWithinAGroup(int blocks, int heads, int shift)
    {
        var seen = new bool[heads, blocks];
        int group = 1 << shift;
        for (int y = 0; y < heads / group; y++)
            for (int x = 0; x < blocks * group; x++)
            {
                int block = TileMath.GroupedBlock(x, shift), head = TileMath.GroupedHead(x, y, shift);
                Assert.InRange(block, 0, blocks - 1);
                Assert.InRange(head, y * group, y * group + group - 1);
                Assert.False(seen[head, block], $"block ({head}, {block}) twice");
                seen[head, block] = true;
                // The group's heads take turns: block n of every head, then block n + 1.
                if (x >= group)
                    Assert.Equal(block - 1, TileMath.GroupedBlock(x - group, shift));
            }
        Assert.All(Enumerable.Range(0, heads), h => Assert.All(Enumerable.Range(0, blocks), b => Assert.True(seen[h, b])));
    }

    [Theory]
    [InlineData(16, 1024, 128, 4)]     // 512 KiB of K/V per head: all 16 heads fit
    [InlineData(16, 16384, 128, 2)]    // 8 MiB per head: 4 heads
    [InlineData(16, 65536, 128, 0)]    // one head fills the budget alone
    [InlineData(12, 1024, 64, 2)]      // 4 is the largest power of two dividing 12
    [InlineData(7, 1024, 64, 0)]
    [InlineData(32, 0, 64, 5)]
    public void HeadGroupIsTheLargestPowerOfTwoDividingTheHeadsWithinTheL2Budget(int heads, int seqK, int headDim, int expected)
    {
        int shift = TileMath.HeadGroupShift(heads, 4L * seqK * headDim);
        Assert.Equal(expected, shift);
        Assert.Equal(0, heads % (1 << shift));
    }
}
