using Xunit;

namespace FlashAttention.Tests;

/// <summary>
/// Every other test trusts <see cref="ReferenceAttention"/>, so it is checked independently here: its forward against
/// a naive re-derivation from the definitions written in the test (bottom-right causal, window, softcap, ALiBi, key
/// padding, cosine with groups, dropout via IsKept), and its gradients against central finite differences of its own
/// forward (loss = Σ dO∘O), which validates the chain through softcap, user modifiers and the L2 normalisation.
/// </summary>
public class ReferenceTests
{
    private static readonly AttentionShape Tiny = new(2, 5, 7, 4, 2, 6);

    public static TheoryData<string> Cases() => new(
    [
        "plain", "causal Nq>Nk", "causal Nq<Nk", "window", "softcap alibi", "alibi [B,H] keymask", "dropout", "cosine groups",
        "cosine no l2", "combo",
    ]);

    private static (AttentionShape Shape, AttentionOptions Options) Case(string name) => name switch
    {
        "plain" => (Tiny, new AttentionOptions()),
        "causal Nq>Nk" => (new AttentionShape(2, 9, 4, 2, 1, 4), new AttentionOptions { Causal = true, Scale = 0.8f }),
        "causal Nq<Nk" => (Tiny, new AttentionOptions { Causal = true }),
        "window" => (Tiny, new AttentionOptions { WindowLeft = 1, WindowRight = 2 }),
        "softcap alibi" => (Tiny, new AttentionOptions { Softcap = 1.3f, AlibiSlopes = OptionsTests.Slopes(4, 1), Scale = 1.1f }),
        "alibi [B,H] keymask" => (Tiny, new AttentionOptions { AlibiSlopes = OptionsTests.Slopes(8, 2), KeyPaddingMask = Mask() }),
        "dropout" => (Tiny, new AttentionOptions { DropoutP = 0.4f, Seed = 3, Offset = 4 }),
        "cosine groups" => (Tiny, new AttentionOptions { Variant = AttentionVariant.Cosine, CosineGroups = 3, CosineScale = 4f }),
        "cosine no l2" => (Tiny, new AttentionOptions { Variant = AttentionVariant.Cosine, L2NormalizeQK = false, CosineScale = 2f }),
        "combo" => (Tiny, new AttentionOptions
        {
            Causal = true, WindowLeft = 3, Softcap = 2f, AlibiSlopes = OptionsTests.Slopes(4, 3), KeyPaddingMask = Mask(),
            DropoutP = 0.3f, Seed = 9,
        }),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Batch 0 keeps every other key; batch 1 loses all of them (fully masked rows).</summary>
    private static bool[] Mask() => Enumerable.Range(0, 14).Select(i => i < 7 && i % 2 == 0).ToArray();

    /// <summary>Attention straight from the definitions, one (batch, head, query) at a time, in double.</summary>
    private static (double[] Output, double[] Lse) Naive(AttentionShape s, float[] q, float[] k, float[] v, AttentionOptions o)
    {
        int d = s.HeadDim, group = s.Heads / s.KvHeads;
        bool cosine = o.Variant == AttentionVariant.Cosine;
        double scale = cosine ? o.CosineScale : o.Scale ?? 1f / MathF.Sqrt(d); // the default scale is a float32 value
        int right = o.Causal ? 0 : o.WindowRight;
        var dropout = new DropoutMask(o.DropoutP, o.Seed, o.Offset, s.Heads);
        var output = new double[s.QueryLength];
        var lse = new double[s.LseLength];
        for (int b = 0; b < s.Batch; b++)
            for (int h = 0; h < s.Heads; h++)
                for (int i = 0; i < s.SeqLenQ; i++)
                {
                    var qi = Row(q, ((long)(b * s.SeqLenQ + i) * s.Heads + h) * d);
                    var scores = new double[s.SeqLenK];
                    var visible = new bool[s.SeqLenK];
                    for (int j = 0; j < s.SeqLenK; j++)
                    {
                        var kj = Row(k, ((long)(b * s.SeqLenK + j) * s.KvHeads + h / group) * d);
                        double x = 0;
                        for (int c = 0; c < d; c++)
                            x += qi[c] * kj[c];
                        x *= scale;
                        if (o.Softcap > 0)
                            x = o.Softcap * Math.Tanh(x / o.Softcap);
                        if (!o.AlibiSlopes.IsEmpty)
                        {
                            var slopes = o.AlibiSlopes.Span;
                            double slope = slopes.Length == s.Heads ? slopes[h] : slopes[b * s.Heads + h];
                            x -= slope * Math.Abs(i + s.SeqLenK - s.SeqLenQ - j); // distance to the bottom-right diagonal
                        }
                        int offset = j - (i + s.SeqLenK - s.SeqLenQ);
                        visible[j] = (o.WindowLeft < 0 || offset >= -o.WindowLeft) && (right < 0 || offset <= right)
                            && (o.KeyPaddingMask.IsEmpty || o.KeyPaddingMask.Span[b * s.SeqLenK + j]);
                        scores[j] = x;
                    }
                    long at = ((long)b * s.Heads + h) * s.SeqLenQ + i;
                    if (!visible.Contains(true))
                    {
                        lse[at] = double.PositiveInfinity;
                        continue;
                    }
                    double max = Enumerable.Range(0, s.SeqLenK).Where(j => visible[j]).Max(j => scores[j]);
                    double sum = Enumerable.Range(0, s.SeqLenK).Where(j => visible[j]).Sum(j => Math.Exp(scores[j] - max));
                    lse[at] = max + Math.Log(sum);
                    for (int j = 0; j < s.SeqLenK; j++)
                    {
                        if (!visible[j] || !dropout.IsKept(b, h, i, j))
                            continue;
                        double weight = Math.Exp(scores[j] - lse[at]) / (1.0 - o.DropoutP);
                        var vj = Row(v, ((long)(b * s.SeqLenK + j) * s.KvHeads + h / group) * d, normalise: false);
                        for (int c = 0; c < d; c++)
                            output[((long)(b * s.SeqLenQ + i) * s.Heads + h) * d + c] += weight * vj[c];
                    }
                }
        return (output, lse);

        double[] Row(float[] x, long start, bool normalise = true)
        {
            var r = new double[d];
            for (int c = 0; c < d; c++)
                r[c] = x[start + c];
            if (normalise && cosine && o.L2NormalizeQK)
            {
                int g = d / o.CosineGroups;
                for (int part = 0; part < d; part += g)
                {
                    double n = Math.Sqrt(r.Skip(part).Take(g).Sum(e => e * e));
                    for (int c = part; c < part + g; c++)
                        r[c] /= n;
                }
            }
            return r;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReferenceForward_EqualsNaiveDefinition(string name)
    {
        var (s, o) = Case(name);
        var x = new DenseInputs<float>(s, TestData.StableSeed(name));
        var reference = ReferenceAttention.Forward<float>(s, x.Q, x.K, x.V, o);
        var (output, lse) = Naive(s, x.Q, x.K, x.V, o);
        Assert.True(Close(reference.Output, output), $"{name}: output");
        Assert.True(Close(reference.Lse, lse), $"{name}: lse");
    }

    private static bool Close(double[] a, double[] b)
    {
        for (int i = 0; i < a.Length; i++)
            if (double.IsInfinity(a[i]) || double.IsInfinity(b[i]) ? a[i] != b[i] : Math.Abs(a[i] - b[i]) > 1e-12 * Math.Max(1, Math.Abs(b[i])))
                return false;
        return true;
    }

    /// <summary>One key: the output is that key's value (no choice to make), and the LSE is its score.</summary>
    [Fact]
    public void SingleKey_OutputIsItsValue()
    {
        var s = new AttentionShape(1, 3, 1, 1, 1, 5);
        var x = new DenseInputs<float>(s, 5);
        // Forward only: with one key P = 1, so dq and dk are exactly 0 and a relative error on them would measure noise.
        var run = Check.AgainstReference(x, new AttentionOptions { Scale = 0.7f }, "one key", backward: false);
        for (int i = 0; i < 3; i++)
        {
            double score = 0;
            for (int c = 0; c < 5; c++)
            {
                Assert.Equal(x.V[c], run.Output[i * 5 + c], 6);
                score += (double)x.Q[i * 5 + c] * x.K[c];
            }
            Assert.Equal(0.7 * score, run.Lse[i], 5);
        }
    }

    /// <summary>Identical keys: the softmax is uniform and the output is the mean of the values.</summary>
    [Fact]
    public void IdenticalKeys_OutputIsMeanOfValues()
    {
        var s = new AttentionShape(1, 4, 9, 1, 1, 3);
        var x = new DenseInputs<float>(s, 6);
        for (int j = 1; j < 9; j++)
            Array.Copy(x.K, 0, x.K, j * 3, 3);
        // Forward only: with identical keys dq is exactly 0 in theory, so a relative error on it would measure rounding noise.
        var run = Check.AgainstReference(x, null, "identical keys", backward: false);
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(Enumerable.Range(0, 9).Average(j => (double)x.V[j * 3 + c]), run.Output[i * 3 + c], 5);
    }

    public static TheoryData<string> GradientCases() => new(["plain", "causal Nq>Nk", "softcap alibi", "alibi [B,H] keymask", "dropout", "cosine groups", "cosine no l2", "combo", "user mods"]);

    /// <summary>Reference gradients vs central differences of the reference forward, on a sample of coordinates of q, k and v.</summary>
    [Theory]
    [MemberData(nameof(GradientCases))]
    public void ReferenceGradients_MatchFiniteDifferences(string name)
    {
        if (name == "user mods")
            FiniteDifferences(Tiny, new AttentionOptions { Causal = true }, new TanhGateScoreMod(0.6f), new DocumentMask(3), name);
        else
        {
            var (s, o) = Case(name);
            FiniteDifferences(s, o, default(NoScoreMod), default(NoMask), name);
        }
    }

    private static void FiniteDifferences<TScore, TMask>(AttentionShape s, AttentionOptions o, TScore score, TMask mask, string name)
        where TScore : struct, IScoreMod where TMask : struct, IMaskMod
    {
        var x = new DenseInputs<float>(s, TestData.StableSeed(name) + 1);
        var g = ReferenceAttention.Backward<float, TScore, TMask>(s, x.Q, x.K, x.V, x.DO, score, mask, o);
        double Loss()
        {
            var output = ReferenceAttention.Forward<float, TScore, TMask>(s, x.Q, x.K, x.V, score, mask, o).Output;
            double sum = 0;
            for (int n = 0; n < output.Length; n++)
                sum += output[n] * x.DO[n];
            return sum;
        }
        var rng = new Random(7);
        foreach (var (tensor, gradient, what) in new[] { (x.Q, g.DQ, "dq"), (x.K, g.DK, "dk"), (x.V, g.DV, "dv") })
        {
            double largest = gradient.Max(Math.Abs);
            for (int t = 0; t < 12; t++)
            {
                int n = rng.Next(tensor.Length);
                float original = tensor[n];
                // The step actually taken is the difference of the two float inputs, so input rounding does not enter.
                float plus = original + 1e-3f, minus = original - 1e-3f;
                tensor[n] = plus;
                double up = Loss();
                tensor[n] = minus;
                double down = Loss();
                tensor[n] = original;
                double numeric = (up - down) / ((double)plus - minus);
                Assert.True(Math.Abs(numeric - gradient[n]) <= 1e-4 * Math.Max(largest, 1e-3),
                    $"{name}: {what}[{n}] analytic {gradient[n]:E6}, finite difference {numeric:E6}");
            }
        }
    }
}
