using System.CommandLine;
using System.Globalization;

namespace FlashAttention.Cli;

/// <summary>Storage type the kernels run on; accumulation is always float32.</summary>
internal enum ComputeDtype
{
    /// <summary>float32 storage.</summary>
    Fp32,

    /// <summary>float16 storage, read from and written to <c>&lt;f2</c>.</summary>
    Fp16,

    /// <summary>bfloat16 storage; NumPy has no bfloat16, so it travels as <c>&lt;f4</c> and is rounded on the way in.</summary>
    Bf16,
}

/// <summary>The values of the flags shared by <c>forward</c> and <c>backward</c>, checked and resolved.</summary>
internal sealed record AttentionSettings
{
    /// <summary>Path of q.</summary>
    public required string Q { get; init; }

    /// <summary>Path of k.</summary>
    public required string K { get; init; }

    /// <summary>Path of v.</summary>
    public required string V { get; init; }

    /// <summary>Path of the cumulative query offsets, or null for dense inputs.</summary>
    public string? CuSeqlensQ { get; init; }

    /// <summary>Path of the cumulative key offsets, or null for dense inputs.</summary>
    public string? CuSeqlensK { get; init; }

    /// <summary>Path of the ALiBi slopes, or null.</summary>
    public string? Alibi { get; init; }

    /// <summary>Path of the key padding mask, or null.</summary>
    public string? KeyMask { get; init; }

    /// <summary>The requested storage type; null means "that of q".</summary>
    public ComputeDtype? Dtype { get; init; }

    /// <summary>The requested device: <c>cpu</c> or <c>cuda</c>.</summary>
    public required string Device { get; init; }

    /// <summary>Everything the flags say about the attention itself; ALiBi and the key mask are added once loaded.</summary>
    public required AttentionOptions Options { get; init; }

    /// <summary>True when the inputs are packed variable-length sequences.</summary>
    public bool Packed => CuSeqlensQ is not null;
}

/// <summary>
/// The flags shared by <c>forward</c> and <c>backward</c> (names fixed by the tool's contract), and their translation
/// into <see cref="AttentionSettings"/>. Each flag value is checked here, before any file is opened, so a bad value
/// costs nothing and names the flag.
/// </summary>
internal sealed class AttentionFlags
{
    public Option<string> Q { get; } = new("--q") { Description = "Queries .npy [B, Nq, H, D] (packed: [total_q, H, D]).", Required = true, HelpName = "Q.npy" };
    public Option<string> K { get; } = new("--k") { Description = "Keys .npy [B, Nk, Hkv, D] (packed: [total_k, Hkv, D]); Hkv divides H.", Required = true, HelpName = "K.npy" };
    public Option<string> V { get; } = new("--v") { Description = "Values .npy, same shape as k.", Required = true, HelpName = "V.npy" };
    public Option<float?> Scale { get; } = new("--scale") { Description = "Softmax scale (default 1/sqrt(D)).", HelpName = "S" };
    public Option<bool> Causal { get; } = new("--causal") { Description = "Causal mask, aligned to the bottom-right corner when Nq != Nk." };
    public Option<string?> Window { get; } = new("--window") { Description = "Sliding window L,R: keys left/right of the diagonal each query sees; -1 = unlimited.", HelpName = "L,R" };
    public Option<float?> Softcap { get; } = new("--softcap") { Description = "Soft-cap the scores: C*tanh(score/C); 0 = off.", HelpName = "C" };
    public Option<string?> Alibi { get; } = new("--alibi") { Description = "ALiBi slopes .npy <f4 [H] or [B, H].", HelpName = "SLOPES.npy" };
    public Option<string?> KeyMask { get; } = new("--key-mask") { Description = "Key padding mask .npy |b1 or <i4 [B, Nk] (packed: [B, max_k]); nonzero = keep.", HelpName = "M.npy" };
    public Option<float?> Dropout { get; } = new("--dropout") { Description = "Dropout probability in [0, 1); needs --seed.", HelpName = "P" };
    public Option<ulong?> Seed { get; } = new("--seed") { Description = "Seed of the Philox dropout generator.", HelpName = "N" };
    public Option<ulong?> Offset { get; } = new("--offset") { Description = "Offset of the Philox dropout generator (default 0).", HelpName = "N" };
    public Option<string> Variant { get; } = new("--variant") { Description = "softmax (default) or cosine (L2-normalised q and k, no running max).", HelpName = "softmax|cosine", DefaultValueFactory = _ => "softmax" };
    public Option<float?> CosScale { get; } = new("--cos-scale") { Description = "Cosine variant: fixed scale (default 8).", HelpName = "S" };
    public Option<int?> CosGroups { get; } = new("--cos-groups") { Description = "Cosine variant: L2-normalise D in this many equal groups (default 1).", HelpName = "G" };
    public Option<bool> NoL2Norm { get; } = new("--no-l2norm") { Description = "Cosine variant: q and k are already L2-normalised; skip it in the kernel." };
    public Option<string?> CuSeqlensQ { get; } = new("--cu-seqlens-q") { Description = "Packed input: cumulative query offsets .npy <i4 [B+1].", HelpName = "CQ.npy" };
    public Option<string?> CuSeqlensK { get; } = new("--cu-seqlens-k") { Description = "Packed input: cumulative key offsets .npy <i4 [B+1].", HelpName = "CK.npy" };
    public Option<string?> Dtype { get; } = new("--dtype") { Description = "Storage type: fp32, fp16 or bf16 (bf16 travels as <f4); default: that of q.", HelpName = "fp32|fp16|bf16" };
    public Option<string> Device { get; } = new("--device") { Description = "cpu (default) or cuda.", HelpName = "cpu|cuda", DefaultValueFactory = _ => "cpu" };
    public Option<int?> Threads { get; } = CreateThreadsOption();

    public AttentionFlags()
    {
        Variant.AcceptOnlyFromAmong("softmax", "cosine");
        Dtype.AcceptOnlyFromAmong("fp32", "fp16", "bf16");
        Device.AcceptOnlyFromAmong("cpu", "cuda");
    }

    /// <summary>The <c>--threads N</c> flag every subcommand takes.</summary>
    public static Option<int?> CreateThreadsOption() =>
        new("--threads") { Description = "Most threads to use (default or -1: every core).", HelpName = "N" };

    /// <summary>Reads <c>--threads</c>: null for every core (absent or −1, as in <see cref="AttentionOptions.MaxDegreeOfParallelism"/>), otherwise a positive count.</summary>
    /// <param name="result">The parse result.</param>
    /// <param name="option">The option from <see cref="CreateThreadsOption"/>.</param>
    /// <exception cref="CliException">The count is 0 or below −1.</exception>
    public static int? ReadThreads(ParseResult result, Option<int?> option)
    {
        int? threads = result.GetValue(option);
        if (threads is 0 or < -1)
            throw new CliException($"--threads {threads}: the thread count must be positive (or -1 for every core).");
        return threads == -1 ? null : threads;
    }

    /// <summary>Adds every shared flag to a command.</summary>
    /// <param name="command">forward or backward.</param>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
        {
            Q, K, V, Scale, Causal, Window, Softcap, Alibi, KeyMask, Dropout, Seed, Offset,
            Variant, CosScale, CosGroups, NoL2Norm, CuSeqlensQ, CuSeqlensK, Dtype, Device, Threads,
        })
        {
            command.Add(option);
        }
    }

    /// <summary>Checks the flag values and resolves them.</summary>
    /// <param name="result">The parse result.</param>
    /// <exception cref="CliException">A value is out of range or flags contradict each other.</exception>
    public AttentionSettings Read(ParseResult result)
    {
        var options = new AttentionOptions { Causal = result.GetValue(Causal) };

        if (result.GetValue(Window) is string window)
        {
            var (left, right) = ParseWindow(window);
            if (options.Causal && right > 0)
                throw new CliException($"--window {window}: with --causal the right bound must be 0 or -1 (causal sees nothing right of the diagonal).");
            options = options with { WindowLeft = left, WindowRight = right };
        }

        if (result.GetValue(Softcap) is float softcap)
        {
            if (!float.IsFinite(softcap) || softcap < 0)
                throw new CliException($"--softcap {Format(softcap)}: the cap must be finite and >= 0 (0 = off).");
            options = options with { Softcap = softcap };
        }

        var dropout = result.GetValue(Dropout);
        var seed = result.GetValue(Seed);
        if (dropout is float p)
        {
            if (!(p >= 0 && p < 1))
                throw new CliException($"--dropout {Format(p)}: the probability must be in [0, 1).");
            // The backward pass regenerates the forward's mask from (seed, offset), so an implicit seed would make
            // a forward/backward pair silently disagree.
            if (p > 0 && seed is null)
                throw new CliException($"--dropout {Format(p)} needs --seed N (and the same --seed/--offset for backward).");
            options = options with { DropoutP = p };
        }
        options = options with { Seed = seed ?? 0, Offset = result.GetValue(Offset) ?? 0 };

        bool cosine = result.GetValue(Variant) == "cosine";
        var scale = result.GetValue(Scale);
        var cosScale = result.GetValue(CosScale);
        var cosGroups = result.GetValue(CosGroups);
        bool noL2 = result.GetValue(NoL2Norm);
        if (cosine)
        {
            if (scale is not null)
                throw new CliException("--scale applies to the softmax variant; the cosine variant takes --cos-scale.");
            options = options with { Variant = AttentionVariant.Cosine, L2NormalizeQK = !noL2 };
            if (cosScale is float cs)
            {
                if (!float.IsFinite(cs) || cs <= 0)
                    throw new CliException($"--cos-scale {Format(cs)}: the scale must be finite and positive.");
                options = options with { CosineScale = cs };
            }
            if (cosGroups is int g)
            {
                if (g < 1)
                    throw new CliException($"--cos-groups {g}: the group count must be positive (and divide D).");
                options = options with { CosineGroups = g };
            }
        }
        else
        {
            // Silently ignoring a cosine flag would hand back softmax results the caller did not ask for.
            if (cosScale is not null || cosGroups is not null || noL2)
                throw new CliException("--cos-scale, --cos-groups and --no-l2norm need --variant cosine.");
            if (scale is float s)
            {
                if (!float.IsFinite(s))
                    throw new CliException($"--scale {Format(s)}: the scale must be finite.");
                options = options with { Scale = s };
            }
        }

        if (ReadThreads(result, Threads) is int threads)
            options = options with { MaxDegreeOfParallelism = threads };

        string? cuQ = result.GetValue(CuSeqlensQ), cuK = result.GetValue(CuSeqlensK);
        if ((cuQ is null) != (cuK is null))
            throw new CliException("Packed (variable-length) input needs both --cu-seqlens-q and --cu-seqlens-k.");

        return new AttentionSettings
        {
            Q = result.GetValue(Q)!,
            K = result.GetValue(K)!,
            V = result.GetValue(V)!,
            CuSeqlensQ = cuQ,
            CuSeqlensK = cuK,
            Alibi = result.GetValue(Alibi),
            KeyMask = result.GetValue(KeyMask),
            Dtype = result.GetValue(Dtype) switch
            {
                null => null,
                "fp32" => ComputeDtype.Fp32,
                "fp16" => ComputeDtype.Fp16,
                _ => ComputeDtype.Bf16,
            },
            Device = result.GetValue(Device) ?? "cpu",
            Options = options,
        };
    }

    /// <summary>Parses <c>L,R</c>, each an integer ≥ −1.</summary>
    private static (int Left, int Right) ParseWindow(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 2
            && int.TryParse(parts[0].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int left)
            && int.TryParse(parts[1].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int right)
            && left >= -1 && right >= -1)
        {
            return (left, right);
        }
        throw new CliException($"--window {text}: expected L,R with two integers >= -1 (-1 = unlimited), e.g. --window 128,0.");
    }

    private static string Format(float value) => value.ToString(CultureInfo.InvariantCulture);
}
