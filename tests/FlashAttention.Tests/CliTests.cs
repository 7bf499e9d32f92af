using FlashAttention.Cli;
using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// The <c>flashattn</c> tool end to end, in-process, on temporary .npy files: each result must equal the library's
/// own (same kernels, same options), and each usage error must exit 2 with a one-line message naming the file or flag
/// and leave no output file behind.
/// </summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flashattn-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // B=2, Nq=7, Nk=9, H=4, Hkv=2 (GQA), D=16: small, but every dimension distinct so a transposed shape shows up.
    private static readonly AttentionShape Dense = new(2, 7, 9, 4, 2, 16);

    [Fact]
    public void ForwardEqualsLibrary()
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        var (code, stdout, stderr) = Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), "--threads", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("forward:", stdout);

        var options = new AttentionOptions { MaxDegreeOfParallelism = 2 };
        var (o, lse, _) = LibraryForward<float>(Dense, options, softmax: false);
        AssertFile(P("o.npy"), NpyDtype.Float32, [2, 7, 4, 16], o);
        AssertFile(P("lse.npy"), NpyDtype.Float32, [2, 4, 7], lse);
    }

    [Fact]
    public void ForwardWithEveryModifierAndSoftmaxEqualsLibrary()
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        var slopes = Save("alibi.npy", new float[] { 0.5f, 0.25f, 0.125f, 0.0625f }, 4);
        var (code, _, stderr) = Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), "--softmax", P("p.npy"),
            "--causal", "--window", "4,-1", "--softcap", "3.5", "--scale", "0.3", "--alibi", slopes, "--dropout", "0.2", "--seed", "42", "--offset", "5");
        Assert.True(code == 0, stderr);

        var options = new AttentionOptions
        {
            Causal = true, WindowLeft = 4, Softcap = 3.5f, Scale = 0.3f, AlibiSlopes = new[] { 0.5f, 0.25f, 0.125f, 0.0625f },
            DropoutP = 0.2f, Seed = 42, Offset = 5,
        };
        var (o, lse, p) = LibraryForward<float>(Dense, options, softmax: true);
        AssertFile(P("o.npy"), NpyDtype.Float32, [2, 7, 4, 16], o);
        AssertFile(P("lse.npy"), NpyDtype.Float32, [2, 4, 7], lse);
        AssertFile(P("p.npy"), NpyDtype.Float32, [2, 4, 7, 9], p!);
        Assert.Contains(p!, x => x < 0); // the dropout mask travels in the sign bit
    }

    [Fact]
    public void CosineVariantEqualsLibrary()
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        var (code, _, stderr) = Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"),
            "--variant", "cosine", "--cos-scale", "6", "--cos-groups", "2", "--causal");
        Assert.True(code == 0, stderr);
        var options = new AttentionOptions { Variant = AttentionVariant.Cosine, CosineScale = 6, CosineGroups = 2, Causal = true };
        AssertFile(P("o.npy"), NpyDtype.Float32, [2, 7, 4, 16], LibraryForward<float>(Dense, options, softmax: false).Output);
    }

    [Fact]
    public void BackwardEqualsLibrary()
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        string[] mods = ["--causal", "--dropout", "0.1", "--seed", "7"];
        Assert.Equal(0, Run(["forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), .. mods]).Code);
        Save("do.npy", TestData.Random(Dense.QueryLength, 14), 2, 7, 4, 16);
        var (code, stdout, stderr) = Run(["backward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), "--dout", P("do.npy"),
            "--dq", P("dq.npy"), "--dk", P("dk.npy"), "--dv", P("dv.npy"), .. mods]);
        Assert.True(code == 0, stderr);
        Assert.Contains("backward:", stdout);

        var options = new AttentionOptions { Causal = true, DropoutP = 0.1f, Seed = 7 };
        var (dq, dk, dv) = LibraryBackward<float>(Dense, options);
        AssertFile(P("dq.npy"), NpyDtype.Float32, [2, 7, 4, 16], dq);
        AssertFile(P("dk.npy"), NpyDtype.Float32, [2, 9, 2, 16], dk);
        AssertFile(P("dv.npy"), NpyDtype.Float32, [2, 9, 2, 16], dv);
    }

    [Fact]
    public void PackedVarlenForwardAndBackwardEqualLibrary()
    {
        // Three sequences, the middle query sequence empty; cu_seqlens as <i4, the key mask over [B, max_k].
        int[] cuQ = [0, 3, 3, 8], cuK = [0, 4, 9, 11];
        var layout = new VarlenLayout(cuQ, cuK, heads: 2, kvHeads: 1, headDim: 8);
        var qData = TestData.Random(layout.QueryLength, 21);
        var kData = TestData.Random(layout.KeyValueLength, 22);
        var vData = TestData.Random(layout.KeyValueLength, 23);
        var doData = TestData.Random(layout.QueryLength, 24);
        var mask = new bool[3 * 5];
        for (int i = 0; i < mask.Length; i++)
            mask[i] = i % 4 != 1;
        string[] inputs =
        [
            "--q", Save("q.npy", qData, 8, 2, 8), "--k", Save("k.npy", kData, 11, 1, 8), "--v", Save("v.npy", vData, 11, 1, 8),
            "--cu-seqlens-q", Save("cq.npy", cuQ, 4), "--cu-seqlens-k", Save("ck.npy", cuK, 4),
            "--key-mask", Save("mask.npy", mask, 3, 5), "--causal",
        ];
        var (code, _, stderr) = Run(["forward", .. inputs, "--out", P("o.npy"), "--lse", P("lse.npy"), "--softmax", P("p.npy")]);
        Assert.True(code == 0, stderr);
        Save("do.npy", doData, 8, 2, 8);
        (code, _, stderr) = Run(["backward", .. inputs, "--out", P("o.npy"), "--lse", P("lse.npy"), "--dout", P("do.npy"),
            "--dq", P("dq.npy"), "--dk", P("dk.npy"), "--dv", P("dv.npy")]);
        Assert.True(code == 0, stderr);

        var options = new AttentionOptions { Causal = true, KeyPaddingMask = mask };
        var o = new float[layout.QueryLength];
        var lse = new float[layout.LseLength];
        var p = new float[layout.SoftmaxLength];
        Attention.ForwardVarlen<float>(layout, qData, kData, vData, o, lse, options, p);
        float[] dq = new float[layout.QueryLength], dk = new float[layout.KeyValueLength], dv = new float[layout.KeyValueLength];
        Attention.BackwardVarlen<float>(layout, qData, kData, vData, o, lse, doData, dq, dk, dv, options);
        AssertFile(P("o.npy"), NpyDtype.Float32, [8, 2, 8], o);
        AssertFile(P("lse.npy"), NpyDtype.Float32, [2, 8], lse);
        AssertFile(P("p.npy"), NpyDtype.Float32, [3, 2, 5, 5], p);
        AssertFile(P("dq.npy"), NpyDtype.Float32, [8, 2, 8], dq);
        AssertFile(P("dk.npy"), NpyDtype.Float32, [11, 1, 8], dk);
        AssertFile(P("dv.npy"), NpyDtype.Float32, [11, 1, 8], dv);
    }

    [Fact]
    public void Fp16InputsRunInHalfAndWriteF2()
    {
        // <f2 inputs select fp16 without --dtype; outputs are <f2, LSE stays <f4.
        var (q, k, v) = SaveDenseInputs<Half>(Dense);
        Assert.Equal(0, Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy")).Code);
        var (o, lse, _) = LibraryForward<Half>(Dense, null, softmax: false);
        AssertFile(P("o.npy"), NpyDtype.Float16, [2, 7, 4, 16], o);
        AssertFile(P("lse.npy"), NpyDtype.Float32, [2, 4, 7], lse);

        Save("do.npy", TestData.Convert<Half>(TestData.Random(Dense.QueryLength, 14)), 2, 7, 4, 16);
        var (code, _, stderr) = Run("backward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), "--dout", P("do.npy"),
            "--dq", P("dq.npy"), "--dk", P("dk.npy"), "--dv", P("dv.npy"));
        Assert.True(code == 0, stderr);
        var (dq, dk, dv) = LibraryBackward<Half>(Dense, null);
        AssertFile(P("dq.npy"), NpyDtype.Float16, [2, 7, 4, 16], dq);
        AssertFile(P("dk.npy"), NpyDtype.Float16, [2, 9, 2, 16], dk);
        AssertFile(P("dv.npy"), NpyDtype.Float16, [2, 9, 2, 16], dv);
    }

    [Fact]
    public void Fp16FromF4InputsRoundsThenRuns()
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        Assert.Equal(0, Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--dtype", "fp16").Code);
        AssertFile(P("o.npy"), NpyDtype.Float16, [2, 7, 4, 16], LibraryForward<Half>(Dense, null, softmax: false).Output);
    }

    [Fact]
    public void Bf16TravelsAsF4()
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        Assert.Equal(0, Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), "--dtype", "bf16").Code);
        var (o, lse, _) = LibraryForward<BFloat16>(Dense, null, softmax: false);
        AssertFile(P("o.npy"), NpyDtype.Float32, [2, 7, 4, 16], TestData.ToFloat(o));
        AssertFile(P("lse.npy"), NpyDtype.Float32, [2, 4, 7], lse);

        Save("do.npy", TestData.Random(Dense.QueryLength, 14), 2, 7, 4, 16);
        var (code, _, stderr) = Run("backward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), "--dout", P("do.npy"),
            "--dq", P("dq.npy"), "--dk", P("dk.npy"), "--dv", P("dv.npy"), "--dtype", "bf16");
        Assert.True(code == 0, stderr);
        var (dq, dk, dv) = LibraryBackward<BFloat16>(Dense, null);
        AssertFile(P("dq.npy"), NpyDtype.Float32, [2, 7, 4, 16], TestData.ToFloat(dq));
        AssertFile(P("dk.npy"), NpyDtype.Float32, [2, 9, 2, 16], TestData.ToFloat(dk));
        AssertFile(P("dv.npy"), NpyDtype.Float32, [2, 9, 2, 16], TestData.ToFloat(dv));
    }

    [Theory]
    [InlineData("b1")]
    [InlineData("i4")]
    public void KeyMaskAsBoolOrInt32(string dtype)
    {
        var keep = new bool[2 * 9];
        for (int i = 0; i < keep.Length; i++)
            keep[i] = i % 3 != 0 && i >= 2; // batch 0 loses keys 0, 1, 3, 6; batch 1 loses every third
        string mask = dtype == "b1"
            ? Save("mask.npy", keep, 2, 9)
            : Save("mask.npy", keep.Select(x => x ? 5 : 0).ToArray(), 2, 9); // any nonzero keeps
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        var (code, _, stderr) = Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), "--key-mask", mask);
        Assert.True(code == 0, stderr);
        var (o, lse, _) = LibraryForward<float>(Dense, new AttentionOptions { KeyPaddingMask = keep }, softmax: false);
        AssertFile(P("o.npy"), NpyDtype.Float32, [2, 7, 4, 16], o);
        AssertFile(P("lse.npy"), NpyDtype.Float32, [2, 4, 7], lse);
    }

    public static TheoryData<string, string> InputErrors => new()
    {
        // case, the file the message must name
        { "missing", "missing.npy" },
        { "dtype", "q.npy" },
        { "rank", "q.npy" },
        { "k-heads", "k.npy" },
        { "v-shape", "v.npy" },
        { "alibi-shape", "alibi.npy" },
        { "mask-shape", "mask.npy" },
        { "fortran", "q.npy" },
        { "truncated", "k.npy" },
        { "cu-start", "cq.npy" },
    };

    [Theory]
    [MemberData(nameof(InputErrors))]
    public void BadInputFileExits2NamingTheFileAndWritesNothing(string kind, string culprit)
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        var extra = new List<string>();
        switch (kind)
        {
            case "missing": k = P("missing.npy"); break;
            case "dtype": Save("q.npy", new int[Dense.QueryLength], 2, 7, 4, 16); break;
            case "rank": Save("q.npy", new float[14 * 4 * 16], 14, 4, 16); break;
            case "k-heads": Save("k.npy", new float[2 * 9 * 3 * 16], 2, 9, 3, 16); break; // 3 does not divide 4
            case "v-shape": Save("v.npy", new float[2 * 8 * 2 * 16], 2, 8, 2, 16); break;
            case "alibi-shape": extra.AddRange(["--alibi", Save("alibi.npy", new float[3], 3)]); break;
            case "mask-shape": extra.AddRange(["--key-mask", Save("mask.npy", new bool[2 * 7], 2, 7)]); break;
            case "fortran": WriteRaw("q.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 7, 4, 16), }", new byte[Dense.QueryLength * 4]); break;
            case "truncated": WriteRaw("k.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 9, 2, 16), }", new byte[100]); break;
            case "cu-start":
                extra.AddRange(["--cu-seqlens-q", Save("cq.npy", new[] { 1, 14 }, 2), "--cu-seqlens-k", Save("ck.npy", new[] { 0, 18 }, 2)]);
                break;
        }
        var (code, _, stderr) = Run(["forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), .. extra]);
        AssertUsageError(code, stderr, culprit);
    }

    [Fact]
    public void BackwardLseOfWrongShapeExits2()
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        Save("o.npy", new float[Dense.QueryLength], 2, 7, 4, 16);
        Save("do.npy", new float[Dense.QueryLength], 2, 7, 4, 16);
        Save("lse.npy", new float[2 * 7 * 4], 2, 7, 4); // [B, Nq, H] instead of [B, H, Nq]
        var (code, _, stderr) = Run("backward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--lse", P("lse.npy"), "--dout", P("do.npy"),
            "--dq", P("dq.npy"), "--dk", P("dk.npy"), "--dv", P("dv.npy"));
        AssertUsageError(code, stderr, "lse.npy", outputs: ["dq.npy", "dk.npy", "dv.npy"]);
        Assert.Contains("[2, 4, 7]", stderr);
    }

    [Theory]
    [InlineData("--window", "3")]
    [InlineData("--window", "2,-5")]
    [InlineData("--dropout", "0.5")] // without --seed
    [InlineData("--dropout", "1")]
    [InlineData("--threads", "0")]
    [InlineData("--softcap", "-1")]
    [InlineData("--cos-scale", "4")] // without --variant cosine
    [InlineData("--dtype", "fp64")]
    [InlineData("--scale", "abc")]
    [InlineData("--device", "cuda")]
    [InlineData("--no-such-flag", "1")]
    public void BadFlagValueExits2NamingTheFlag(string flag, string value)
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        var (code, _, stderr) = Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), flag, value);
        Assert.Equal(2, code);
        Assert.Contains(flag, stderr);
        Assert.False(File.Exists(P("o.npy")));
        if (flag == "--device")
            Assert.Contains("CUDA backend is not available", stderr);
    }

    [Fact]
    public void ArgumentRejectedByTheLibraryExits2AndWritesNothing()
    {
        // D = 16 does not split into 3 groups; only the library knows this rule.
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        var (code, _, stderr) = Run("forward", "--q", q, "--k", k, "--v", v, "--out", P("o.npy"), "--variant", "cosine", "--cos-groups", "3");
        AssertUsageError(code, stderr, "CosineGroups");
    }

    [Fact]
    public void MissingOutputDirectoryExits2()
    {
        var (q, k, v) = SaveDenseInputs<float>(Dense);
        string target = Path.Combine(_dir, "no-such-dir", "o.npy");
        var (code, _, stderr) = Run("forward", "--q", q, "--k", k, "--v", v, "--out", target);
        Assert.Equal(2, code);
        Assert.Contains(target, stderr);
    }

    [Fact]
    public void InfoPrintsTheMachine()
    {
        var (code, stdout, stderr) = Run("info", "--no-peak", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("Logical cores", stdout);
        Assert.Contains("CUDA", stdout);
        Assert.Contains(".NET", stdout);
    }

    [Fact]
    public void HelpExits0()
    {
        var (code, stdout, _) = Run("forward", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--cu-seqlens-q", stdout);
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string Save<T>(string name, T[] data, params long[] shape) where T : unmanaged
    {
        Npy.Write<T>(P(name), data, shape);
        return P(name);
    }

    private void WriteRaw(string name, string header, byte[] payload)
    {
        using var stream = File.Create(P(name));
        var text = System.Text.Encoding.Latin1.GetBytes(header + "\n");
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)text.Length, 0]);
        stream.Write(text);
        stream.Write(payload);
    }

    /// <summary>Saves q, k, v of the given shape, from fixed seeds so the library reference can rebuild them.</summary>
    private (string Q, string K, string V) SaveDenseInputs<T>(AttentionShape s) where T : unmanaged
    {
        var (q, k, v) = DenseInputs<T>(s);
        return (Save("q.npy", q, s.Batch, s.SeqLenQ, s.Heads, s.HeadDim),
            Save("k.npy", k, s.Batch, s.SeqLenK, s.KvHeads, s.HeadDim),
            Save("v.npy", v, s.Batch, s.SeqLenK, s.KvHeads, s.HeadDim));
    }

    private static (T[] Q, T[] K, T[] V) DenseInputs<T>(AttentionShape s) where T : unmanaged =>
        (Store<T>(TestData.Random(s.QueryLength, 11)), Store<T>(TestData.Random(s.KeyValueLength, 12)), Store<T>(TestData.Random(s.KeyValueLength, 13)));

    /// <summary>Storage values the way the tool makes them: <c>&lt;f4</c> data rounded to T.</summary>
    private static T[] Store<T>(float[] x) where T : unmanaged => typeof(T) == typeof(float) ? (T[])(object)x : TestData.Convert<T>(x);

    private static (T[] Output, float[] Lse, float[]? Softmax) LibraryForward<T>(AttentionShape s, AttentionOptions? options, bool softmax) where T : unmanaged
    {
        var (q, k, v) = DenseInputs<T>(s);
        var o = new T[s.QueryLength];
        var lse = new float[s.LseLength];
        var p = softmax ? new float[s.SoftmaxLength] : null;
        Attention.Forward<T>(s, q, k, v, o, lse, options, p);
        return (o, lse, p);
    }

    /// <summary>The library's forward then backward with dO from seed 14, as the tests feed the tool.</summary>
    private static (T[] DQ, T[] DK, T[] DV) LibraryBackward<T>(AttentionShape s, AttentionOptions? options) where T : unmanaged
    {
        var (q, k, v) = DenseInputs<T>(s);
        var (o, lse, _) = LibraryForward<T>(s, options, softmax: false);
        var dout = Store<T>(TestData.Random(s.QueryLength, 14));
        T[] dq = new T[s.QueryLength], dk = new T[s.KeyValueLength], dv = new T[s.KeyValueLength];
        Attention.Backward<T>(s, q, k, v, o, lse, dout, dq, dk, dv, options);
        return (dq, dk, dv);
    }

    private static void AssertFile<T>(string path, NpyDtype dtype, long[] shape, T[] expected) where T : unmanaged
    {
        var a = Npy.Read(path);
        Assert.Equal(dtype, a.Dtype);
        Assert.Equal(shape, a.Shape);
        Assert.Equal(expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(a.Data).ToArray());
    }

    private void AssertUsageError(int code, string stderr, string culprit, string[]? outputs = null)
    {
        Assert.True(code == 2, $"exit {code}: {stderr}");
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains(culprit, stderr);
        foreach (string name in outputs ?? ["o.npy", "lse.npy"])
            Assert.False(File.Exists(P(name)), $"{name} was left behind");
        Assert.DoesNotContain(Directory.EnumerateFiles(_dir), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
