using ILGPU;
using ILGPU.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace FlashAttention.Cuda.Tests;

/// <summary>
/// Every option of the GPU backend on the host emulation against the float64 reference, forward, backward and the
/// returned softmax: head dims that run on a larger kernel, packed variable-length batches, cosine attention, float32
/// storage, the caller's score and mask modifiers, and the atomic-dQ backward.
/// </summary>
public class EmulatedFeatureTests(ITestOutputHelper output)
{
    private static CudaAttention Cuda => Backends.Shared;

    private static int Seed(string name) => HashCode.Combine(name, Environment.TickCount);

    private void Run<T>(GpuCase c, bool softmax = false) where T : unmanaged
    {
        double tolerance = typeof(T) == typeof(BFloat16) ? 1.6e-2 : 2e-3;
        var errors = GpuRun.Check<T>(Cuda, c, tolerance, Seed(c.Name), backward: true, softmax: softmax);
        output.WriteLine($"{c.Name} {typeof(T).Name}: {errors}");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(40)]
    [InlineData(96)]
    [InlineData(136)]
    [InlineData(256)]
    public void HeadDimsRunZeroFilledOnTheNextKernel(int headDim)
    {
        var shape = new AttentionShape(1, 70, 90, 2, 1, headDim);
        Run<Half>(new GpuCase($"D{headDim} causal GQA", shape, null, new AttentionOptions { Causal = true }));
        Run<BFloat16>(new GpuCase($"D{headDim} window", shape, null, new AttentionOptions { WindowLeft = 20, WindowRight = 5 }));
    }

    [Fact]
    public void PackedSequencesWithAnEmptyOneAndPadding()
    {
        // Sequence 1 has no keys: its rows give 0 and LSE +inf; sequence 2 has no queries.
        var layout = new VarlenLayout([0, 37, 37 + 50, 87, 87 + 70], [0, 60, 60, 60 + 33, 60 + 33 + 129], 4, 2, 64);
        var padding = Enumerable.Range(0, layout.Batch * layout.MaxSeqLenK).Select(i => i % 11 != 4).ToArray();
        Run<Half>(new GpuCase("varlen causal", null, layout, new AttentionOptions { Causal = true }), softmax: true);
        Run<BFloat16>(new GpuCase("varlen padding dropout softcap", null, layout,
            new AttentionOptions { KeyPaddingMask = padding, DropoutP = 0.3f, Seed = 8, Softcap = 6f }), softmax: true);
    }

    [Fact]
    public void ReturnedSoftmaxCarriesTheDropoutMaskInTheSignBit()
    {
        var shape = new AttentionShape(2, 65, 100, 2, 2, 32);
        Run<Half>(new GpuCase("softmax dropout causal", shape, null, new AttentionOptions { Causal = true, DropoutP = 0.25f, Seed = 3, Offset = 77 }), softmax: true);
        Run<BFloat16>(new GpuCase("softmax alibi window", new AttentionShape(1, 90, 80, 2, 1, 128), null,
            new AttentionOptions { WindowLeft = 30, WindowRight = 10, AlibiSlopes = new float[] { 0.3f, 0.1f } }), softmax: true);
    }

    [Fact]
    public void CosineAttentionWithAndWithoutTheNormalisation()
    {
        var shape = new AttentionShape(1, 80, 96, 2, 1, 64);
        Run<Half>(new GpuCase("cosine causal", shape, null, new AttentionOptions { Variant = AttentionVariant.Cosine, Causal = true }), softmax: true);
        Run<Half>(new GpuCase("cosine groups 2 softcap", shape, null,
            new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 2, CosineScale = 6f, Softcap = 5f }));
        // bf16 runs the fixed-shift kernel (no running maximum); fp16 the running maximum on the same normalised inputs.
        Run<BFloat16>(new GpuCase("cosine groups 2 causal padding (fixed shift)", shape, null,
            new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 2, Causal = true, KeyPaddingMask = Enumerable.Range(0, 96).Select(i => i % 9 != 2).ToArray() }), softmax: true);
        Run<BFloat16>(new GpuCase("cosine pre-normalised dropout", new AttentionShape(2, 50, 40, 2, 2, 128), null,
            new AttentionOptions { Variant = AttentionVariant.Cosine, L2NormalizeQK = false, DropoutP = 0.2f, Seed = 4 }, PreNormalizeGroups: 1));
    }

    [Fact]
    public void Float32StorageRoundsOnceToFp16()
    {
        var shape = new AttentionShape(1, 77, 130, 2, 1, 64);
        Run<float>(new GpuCase("fp32 causal", shape, null, new AttentionOptions { Causal = true }), softmax: true);
        Run<float>(new GpuCase("fp32 cosine groups 4", new AttentionShape(1, 40, 50, 1, 1, 96), null,
            new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 4 }));
        Run<float>(new GpuCase("fp32 varlen", null, new VarlenLayout([0, 20, 90], [0, 33, 70], 2, 2, 40), new AttentionOptions { Causal = true }));
    }

    [Fact]
    public void UserScoreAndMaskModifiersForwardAndBackward()
    {
        var shape = new AttentionShape(1, 100, 140, 2, 2, 64);
        var errors = GpuRun.Check<Half, GpuTemperatureMod, GpuPrefixLmMask, CpuTemperatureMod, CpuPrefixLmMask>(Cuda,
            new GpuCase("score mod + prefix-LM mask", shape, null, new AttentionOptions { DropoutP = 0.1f, Seed = 2 }), 2e-3, Seed("mods"),
            new GpuTemperatureMod(0.25f), new GpuPrefixLmMask(28), new CpuTemperatureMod(0.25f), new CpuPrefixLmMask(28), softmax: true);
        output.WriteLine($"mods: {errors}");
    }

    [Fact]
    public void MaskModifierReadsDeviceMemory()
    {
        // A document mask: token i may see key j when both belong to the same document (ids in a device buffer).
        const int n = 120;
        var docs = Enumerable.Range(0, n).Select(i => i < 30 ? 0 : i < 75 ? 1 : 2).ToArray();
        using var buffer = Cuda.Accelerator.Allocate1D<int>(docs.Length);
        buffer.View.CopyFromCPU(docs);
        Cuda.AllowModifierMemory(buffer.View);
        var shape = new AttentionShape(1, n, n, 2, 1, 32);
        var errors = GpuRun.Check<BFloat16, NoCudaScoreMod, GpuDocumentMask, NoScoreMod, CpuDocumentMask>(Cuda,
            new GpuCase("document mask", shape, null, new AttentionOptions { Causal = true }), 1.6e-2, Seed("docs"),
            default, new GpuDocumentMask(CudaAttention.AddressOf(buffer.View)), default, new CpuDocumentMask(docs));
        output.WriteLine($"document mask: {errors}");
    }

    /// <summary>A NaN in one query's input reaches that query's O and LSE and no other (as on the CPU and in PyTorch).</summary>
    [Fact]
    public void NaNInOneQueryPropagatesToThatQueryOnly()
    {
        var shape = new AttentionShape(1, 130, 200, 1, 1, 64);
        var random = new Random(Seed("nan"));
        var q = GpuChecks.RandomInputs<Half>(shape.QueryLength, random);
        var k = GpuChecks.RandomInputs<Half>(shape.KeyValueLength, random);
        var v = GpuChecks.RandomInputs<Half>(shape.KeyValueLength, random);
        const int row = 100;
        q[row * shape.HeadDim + 3] = Half.NaN;
        var (o, lse) = GpuChecks.RunForward(Cuda, shape, q, k, v, new AttentionOptions { Causal = true });
        for (int i = 0; i < shape.SeqLenQ; i++)
        {
            bool nanRow = i == row;
            Assert.True(float.IsNaN(lse[i]) == nanRow, $"LSE of query {i}: {lse[i]}");
            for (int c = 0; c < shape.HeadDim; c++)
                Assert.True(Half.IsNaN(o[i * shape.HeadDim + c]) == nanRow, $"output of query {i}: {o[i * shape.HeadDim + c]}");
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    public void AtomicDqBackward(int headDim)
    {
        var cuda = CudaAttention.CreateHostEmulation();
        try
        {
            cuda.UseAtomicDq = true;
            var shape = new AttentionShape(1, 130, 150, 2, 1, headDim);
            var errors = GpuRun.Check<Half>(cuda, new GpuCase("atomic dQ", shape, null, new AttentionOptions { Causal = true, DropoutP = 0.2f, Seed = 1 }),
                2e-3, Seed("atomic"));
            output.WriteLine($"atomic dQ D{headDim}: {errors}");
            var layout = new VarlenLayout([0, 40, 110], [0, 70, 130], 2, 1, headDim);
            GpuRun.Check<BFloat16>(cuda, new GpuCase("atomic dQ varlen", null, layout, new AttentionOptions { WindowLeft = 25, WindowRight = 0 }),
                1.6e-2, Seed("atomic varlen"));
        }
        finally
        {
            cuda.Dispose();
        }
    }
}

/// <summary>GPU score modifier: a head-dependent temperature and a quadratic term: f(s) = s·(1 + t·h) + 0.05·s².</summary>
public readonly struct GpuTemperatureMod(float perHead) : ICudaScoreMod
{
    private readonly float _perHead = perHead;

    public bool Enabled => true;

    public float Apply(float score, in CudaScorePosition at) => score * (1f + _perHead * at.Head) + 0.05f * score * score;

    public float Derivative(float score, in CudaScorePosition at) => 1f + _perHead * at.Head + 0.1f * score;
}

/// <summary>The CPU twin of <see cref="GpuTemperatureMod"/> (for the reference).</summary>
public readonly struct CpuTemperatureMod(float perHead) : IScoreMod
{
    private readonly float _perHead = perHead;

    public float Apply(float score, in ScorePosition at) => score * (1f + _perHead * at.Head) + 0.05f * score * score;

    public float Derivative(float score, in ScorePosition at) => 1f + _perHead * at.Head + 0.1f * score;

    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart) => ScoreMods.ApplyEach(this, scores, derivatives, rowStart);
}

/// <summary>GPU mask: prefix-LM (the first <c>prefix</c> keys visible to all, the rest causally), with an exact tile classification.</summary>
public readonly struct GpuPrefixLmMask(int prefix) : ICudaMaskMod
{
    private readonly int _prefix = prefix;

    public bool Enabled => true;

    public bool IsVisible(in CudaScorePosition at) => at.KeyIndex < _prefix || at.KeyIndex <= at.QueryIndex + at.SeqLenK - at.SeqLenQ;

    public BlockCoverage Classify(in TileBounds tile)
    {
        int shift = tile.SeqLenK - tile.SeqLenQ;
        if (tile.KeyEnd <= _prefix || tile.KeyEnd - 1 <= tile.QueryStart + shift)
            return BlockCoverage.Full;
        if (tile.KeyStart >= _prefix && tile.KeyStart > tile.QueryEnd - 1 + shift)
            return BlockCoverage.Empty;
        return BlockCoverage.Partial;
    }
}

/// <summary>The CPU twin of <see cref="GpuPrefixLmMask"/>.</summary>
public readonly struct CpuPrefixLmMask(int prefix) : IMaskMod
{
    private readonly int _prefix = prefix;

    public bool IsVisible(in ScorePosition at) => at.KeyIndex < _prefix || at.KeyIndex <= at.QueryIndex + at.SeqLenK - at.SeqLenQ;

    public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Partial;

    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => ScoreMods.MaskEach(this, scores, rowStart);
}

/// <summary>GPU document mask: the document id of every token in a device int array.</summary>
public readonly struct GpuDocumentMask(ulong documentIds) : ICudaMaskMod
{
    private readonly ulong _ids = documentIds;

    public bool Enabled => true;

    public bool IsVisible(in CudaScorePosition at) => CudaDeviceMemory.Int(_ids, at.QueryIndex) == CudaDeviceMemory.Int(_ids, at.KeyIndex);

    public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Partial;
}

/// <summary>The CPU twin of <see cref="GpuDocumentMask"/>.</summary>
public readonly struct CpuDocumentMask(int[] documentIds) : IMaskMod
{
    private readonly int[] _ids = documentIds;

    public bool IsVisible(in ScorePosition at) => _ids[at.QueryIndex] == _ids[at.KeyIndex];

    public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Partial;

    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => ScoreMods.MaskEach(this, scores, rowStart);
}
