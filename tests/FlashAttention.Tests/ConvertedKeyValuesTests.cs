using FlashAttention.Cpu;
using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// The forward pass's shared float32 K/V (ConvertedKeyValues): the same bits as widening or copying per query block, for
/// every storage type and chunk size, for causal GQA, windows, cosine attention (whose keys are normalised on the way in), varlen, and a head dim
/// whose copies exceed the memory budget so some heads share and others do not. Both paths are also checked against the
/// reference, so a path that is wrong in the same way twice still fails.
/// </summary>
[Collection(SharingSwitch.Name)]
public class ConvertedKeyValuesTests
{
    public static TheoryData<string> Cases() => ["causal-gqa", "window", "cosine", "over-budget"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Half_SharedEqualsPerBlock(string name) => Compare<Half>(name);

    [Theory]
    [MemberData(nameof(Cases))]
    public void BFloat16_SharedEqualsPerBlock(string name) => Compare<BFloat16>(name);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float_SharedEqualsPerBlock(string name) => Compare<float>(name);

    /// <summary>
    /// Workers widen a tile together in chunks of rows; any chunk size, down to one row and up to the whole tile, and
    /// any number of workers must give the per-block bits.
    /// </summary>
    [Theory]
    [InlineData(1, 8, true)]
    [InlineData(5, 3, true)]
    [InlineData(16, 16, true)]
    [InlineData(64, 8, true)]
    [InlineData(64, 8, false)]
    [InlineData(5, 16, false)]
    public void AnyChunkSize_WithAndWithoutLookahead_SharedEqualsPerBlock(int chunkRows, int threads, bool lookahead)
    {
        Sharing.ChunkRows = chunkRows;
        Sharing.Lookahead = lookahead;
        try
        {
            Compare<Half>("causal-gqa", threads);
            Compare<float>("window", threads);
            Compare<BFloat16>("dense", threads);
        }
        finally
        {
            Sharing.ChunkRows = CpuForward.BlockK;
            Sharing.Lookahead = true;
        }
    }

    /// <summary>
    /// Two buffers fit the budget (2 × 2048 keys × 256 dims × 4 B = 4 MiB each): the second head gets one while the
    /// first still holds its own; a task of the third head that starts while both are held widens per block, and the
    /// next task of that head, starting after a buffer came back, gets an entry for the rest of the head.
    /// </summary>
    [Fact]
    public unsafe void AHeadThatFoundNoBuffer_GetsOneForItsLaterTasks()
    {
        // One head's copies take 4 MiB (D256, 2048 keys): half the 8 MiB budget, so two buffers for three heads.
        var problem = new AttentionProblem(new AttentionShape(1, 256, 2048, 3, 3, 256), null);
        var k = new Half[problem.KeyValueLength];
        var v = new Half[problem.KeyValueLength];
        fixed (Half* kp = k, vp = v)
        {
            var shared = ConvertedKeyValues<Half>.Create(problem, kp, vp, 256, CpuForward.BlockK, CpuForward.SmallBlockQ);
            Assert.NotNull(shared);
            const int tasksPerHead = 4; // 256 queries in 64-row blocks
            var first = shared.Acquire(0, 0, tasksPerHead);
            var neighbour = shared.Acquire(0, 1, tasksPerHead);
            Assert.NotNull(first);
            Assert.NotNull(neighbour); // the next head starts while the first still holds its buffer
            Assert.NotSame(first.Storage, neighbour.Storage);
            Assert.Null(shared.Acquire(0, 2, tasksPerHead)); // both buffers are taken
            for (int task = 1; task < tasksPerHead; task++)
                Assert.Same(first, shared.Acquire(0, 0, tasksPerHead));
            for (int task = 0; task < tasksPerHead; task++)
                shared.Release(first, 0, 0);
            var third = shared.Acquire(0, 2, tasksPerHead);
            Assert.NotNull(third);
            Assert.Same(first.Storage, third.Storage);
            Assert.Same(third, shared.Acquire(0, 2, tasksPerHead));
            Assert.Same(third, shared.Acquire(0, 2, tasksPerHead));
            for (int task = 0; task < 3; task++)
                shared.Release(third, 0, 2);
            for (int task = 1; task < tasksPerHead; task++)
                Assert.Same(neighbour, shared.Acquire(0, 1, tasksPerHead));
            for (int task = 0; task < tasksPerHead; task++)
                shared.Release(neighbour, 0, 1);
            shared.ReturnBuffers();
        }
    }

    [Fact]
    public unsafe void AHeadLargerThanHalfTheBudget_IsWidenedPerQueryBlock()
    {
        // D256 at 4096 keys: 8 MiB of copies per head, the whole budget: not shared, so memory stays flat in N.
        var problem = new AttentionProblem(new AttentionShape(1, 256, 4096, 3, 3, 256), null);
        var k = new Half[problem.KeyValueLength];
        var v = new Half[problem.KeyValueLength];
        fixed (Half* kp = k, vp = v)
            Assert.Null(ConvertedKeyValues<Half>.Create(problem, kp, vp, 256, CpuForward.BlockK, CpuForward.SmallBlockQ));
    }

    private static void Compare<T>(string name, int threads = 4) where T : unmanaged
    {
        var (shape, options) = name switch
        {
            "causal-gqa" => (new AttentionShape(2, 300, 257, 4, 2, 40), new AttentionOptions { Causal = true }),
            "window" => (new AttentionShape(1, 333, 400, 3, 3, 64), new AttentionOptions { WindowLeft = 70, WindowRight = 9 }),
            "cosine" => (new AttentionShape(1, 200, 190, 2, 1, 48), new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 2 }),
            // 2 × 2048 keys × 256 dims × 4 B = 4 MiB per head: one head's copies fill the budget, so heads alternate.
            _ => (new AttentionShape(1, 130, 2000, 4, 4, 256), new AttentionOptions()),
        };
        int seed = TestData.StableSeed(name + typeof(T).Name);
        var q = TestData.Convert<T>(TestData.Random(shape.QueryLength, seed));
        var k = TestData.Convert<T>(TestData.Random(shape.KeyValueLength, seed + 1));
        var v = TestData.Convert<T>(TestData.Random(shape.KeyValueLength, seed + 2));
        options = options with { MaxDegreeOfParallelism = threads };
        var shared = Run(shape, q, k, v, options, sharing: true);
        var perBlock = Run(shape, q, k, v, options, sharing: false);
        Assert.Equal(perBlock.Lse, shared.Lse);
        Assert.Equal(TestData.ToFloat(perBlock.Output), TestData.ToFloat(shared.Output));
        var reference = ReferenceAttention.Forward<T>(shape, q, k, v, options);
        Assert.True(TestData.RelativeError(TestData.ToFloat(shared.Output), reference.Output) < TestData.Tolerance<T>(), name);
    }

    private static (T[] Output, float[] Lse) Run<T>(AttentionShape shape, T[] q, T[] k, T[] v, AttentionOptions options, bool sharing)
        where T : unmanaged
    {
        var output = new T[shape.QueryLength];
        var lse = new float[shape.LseLength];
        Sharing.Enabled = sharing;
        try
        {
            Attention.Forward<T>(shape, q, k, v, output, lse, options);
        }
        finally
        {
            Sharing.Enabled = true;
        }
        return (output, lse);
    }
}

/// <summary>Tests that flip <see cref="Sharing.Enabled"/> run alone (other tests would take the other path meanwhile; both are correct, but the comparison needs its own).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharingSwitch
{
    public const string Name = "Sharing switch";
}
