using FlashAttention.Cpu;

namespace FlashAttention;

/// <summary>Results of the double-precision reference forward pass.</summary>
public sealed class ReferenceForward
{
    internal ReferenceForward(double[] output, double[] lse, double[] probabilities)
    {
        Output = output;
        Lse = lse;
        Probabilities = probabilities;
    }

    /// <summary>The output, laid out like q.</summary>
    public double[] Output { get; }

    /// <summary>The log-sum-exp, laid out like the kernels' LSE (+∞ for a row that sees no key).</summary>
    public double[] Lse { get; }

    /// <summary>The probabilities [B, H, max_Nq, max_Nk], negated (sign bit set) where dropout dropped them.</summary>
    public double[] Probabilities { get; }
}

/// <summary>Results of the double-precision reference backward pass.</summary>
public sealed class ReferenceGradients
{
    internal ReferenceGradients(double[] dq, double[] dk, double[] dv)
    {
        DQ = dq;
        DK = dk;
        DV = dv;
    }

    /// <summary>dq, laid out like q.</summary>
    public double[] DQ { get; }

    /// <summary>dk, laid out like k.</summary>
    public double[] DK { get; }

    /// <summary>dv, laid out like v.</summary>
    public double[] DV { get; }
}

/// <summary>
/// Plain O(N²) attention and its gradients in double precision, straight from the definitions, for every option.
/// It shares no code with the kernels beyond the dropout mask (which is a definition, not an algorithm) and the
/// caller's own modifiers; built-in options are re-derived here. Use it to validate results; it is slow by design.
/// </summary>
public static class ReferenceAttention
{
    /// <summary>Reference forward pass on a dense layout.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="shape">The shape.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="options">Options; null for the defaults.</param>
    public static ReferenceForward Forward<T>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, AttentionOptions? options = null)
        where T : unmanaged =>
        Forward(shape, q, k, v, default(NoScoreMod), default(NoMask), options);

    /// <summary>Reference forward pass on a dense layout with the caller's modifiers.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <typeparam name="TScoreMod">The score modifier (evaluated in float32 at double inputs).</typeparam>
    /// <typeparam name="TMaskMod">The mask.</typeparam>
    /// <param name="shape">The shape.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">Options; null for the defaults.</param>
    public static ReferenceForward Forward<T, TScoreMod, TMaskMod>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        TScoreMod scoreMod, TMaskMod maskMod, AttentionOptions? options = null)
        where T : unmanaged where TScoreMod : struct, IScoreMod where TMaskMod : struct, IMaskMod =>
        Run(new AttentionProblem(shape, options), q, k, v, default, backward: false, scoreMod, maskMod).Forward;

    /// <summary>Reference forward pass on a packed layout.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="layout">The packed layout.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="options">Options; null for the defaults.</param>
    public static ReferenceForward ForwardVarlen<T>(VarlenLayout layout, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, AttentionOptions? options = null)
        where T : unmanaged =>
        Run(new AttentionProblem(layout, options), q, k, v, default, backward: false, default(NoScoreMod), default(NoMask)).Forward;

    /// <summary>Reference gradients on a dense layout (the forward is recomputed in double).</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="shape">The shape.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="dOutput">Gradient with respect to the output [B, Nq, H, D].</param>
    /// <param name="options">Options; null for the defaults.</param>
    public static ReferenceGradients Backward<T>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, ReadOnlySpan<T> dOutput,
        AttentionOptions? options = null) where T : unmanaged =>
        Backward(shape, q, k, v, dOutput, default(NoScoreMod), default(NoMask), options);

    /// <summary>Reference gradients on a dense layout with the caller's modifiers.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <typeparam name="TScoreMod">The score modifier.</typeparam>
    /// <typeparam name="TMaskMod">The mask.</typeparam>
    /// <param name="shape">The shape.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="dOutput">Gradient with respect to the output [B, Nq, H, D].</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">Options; null for the defaults.</param>
    public static ReferenceGradients Backward<T, TScoreMod, TMaskMod>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> dOutput, TScoreMod scoreMod, TMaskMod maskMod, AttentionOptions? options = null)
        where T : unmanaged where TScoreMod : struct, IScoreMod where TMaskMod : struct, IMaskMod =>
        Run(new AttentionProblem(shape, options), q, k, v, dOutput, backward: true, scoreMod, maskMod).Gradients!;

    /// <summary>Reference gradients on a packed layout.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="layout">The packed layout.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="dOutput">Gradient with respect to the output [total_q, H, D].</param>
    /// <param name="options">Options; null for the defaults.</param>
    public static ReferenceGradients BackwardVarlen<T>(VarlenLayout layout, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, ReadOnlySpan<T> dOutput,
        AttentionOptions? options = null) where T : unmanaged =>
        Run(new AttentionProblem(layout, options), q, k, v, dOutput, backward: true, default(NoScoreMod), default(NoMask)).Gradients!;

    private static double[] ToDouble<T>(ReadOnlySpan<T> x) where T : unmanaged
    {
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
            result[i] = Elements.ToFloat(x[i]);
        return result;
    }

    private static (ReferenceForward Forward, ReferenceGradients? Gradients) Run<T, TScoreMod, TMaskMod>(AttentionProblem p,
        ReadOnlySpan<T> qIn, ReadOnlySpan<T> kIn, ReadOnlySpan<T> vIn, ReadOnlySpan<T> dOutIn, bool backward, TScoreMod scoreMod, TMaskMod maskMod)
        where T : unmanaged where TScoreMod : struct, IScoreMod where TMaskMod : struct, IMaskMod
    {
        // backward is explicit: an empty dOutput is legitimate when there are no query rows (Nq = 0), and must still yield gradients (zeros).
        Validation.ElementType<T>();
        Validation.Length(qIn, p.QueryLength, "q", p.ShapeText);
        Validation.Length(kIn, p.KeyValueLength, "k", p.ShapeText);
        Validation.Length(vIn, p.KeyValueLength, "v", p.ShapeText);
        if (backward)
            Validation.Length(dOutIn, p.QueryLength, "dOutput", p.ShapeText);
        double[] q = ToDouble(qIn), k = ToDouble(kIn), v = ToDouble(vIn);
        double[]? dOut = backward ? ToDouble(dOutIn) : null;
        int d = p.HeadDim;
        var output = new double[p.QueryLength];
        var lse = new double[p.LseLength];
        var probs = p.SoftmaxLength <= 64L << 20 ? new double[p.SoftmaxLength] : [];
        double[]? dq = backward ? new double[p.QueryLength] : null;
        double[]? dk = backward ? new double[p.KeyValueLength] : null;
        double[]? dv = backward ? new double[p.KeyValueLength] : null;
        bool cosine = p.Variant == AttentionVariant.Cosine, l2 = cosine && p.L2Normalize;
        double sigma = p.Scale;
        double keep = 1.0 - p.Dropout.Probability;

        Parallel.For(0, p.Batch * p.KvHeads, new ParallelOptions { MaxDegreeOfParallelism = p.Threads }, unit =>
        {
            int b = unit / p.KvHeads, hk = unit % p.KvHeads, nq = p.SeqQ(b), nk = p.SeqK(b);
            var kHat = new double[nk * d];
            var kNorm = new double[nk * p.CosineGroups];
            for (int j = 0; j < nk; j++)
            {
                Array.Copy(k, p.KOffset(b, j, hk), kHat, j * d, d);
                if (l2)
                    Normalize(kHat.AsSpan(j * d, d), p.CosineGroups, kNorm.AsSpan(j * p.CosineGroups, p.CosineGroups));
            }
            var dkHat = new double[nk * d];
            var s = new double[nk];
            var deriv = new double[nk];
            var visible = new bool[nk];
            var prob = new double[nk];
            var qHat = new double[d];
            var qNorm = new double[p.CosineGroups];
            var dqHat = new double[d];
            for (int h = hk * p.GroupSize; h < (hk + 1) * p.GroupSize; h++)
            {
                for (int i = 0; i < nq; i++)
                {
                    Array.Copy(q, p.QOffset(b, i, h), qHat, 0, d);
                    if (l2)
                        Normalize(qHat, p.CosineGroups, qNorm);
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < nk; j++)
                    {
                        double x = 0;
                        for (int c = 0; c < d; c++)
                            x += qHat[c] * kHat[j * d + c];
                        x *= sigma;
                        double g = 1;
                        if (p.Softcap > 0)
                        {
                            double th = Math.Tanh(x / p.Softcap);
                            x = p.Softcap * th;
                            g = 1 - th * th;
                        }
                        if (p.AlibiSlopes is { } slopes)
                            x -= slopes[(p.AlibiPerBatch ? b * p.Heads : 0) + h] * Math.Abs((double)i + nk - nq - j);
                        var at = new ScorePosition(b, h, i, j, nq, nk);
                        if (typeof(TScoreMod) != typeof(NoScoreMod))
                        {
                            g *= scoreMod.Derivative((float)x, at);
                            x = scoreMod.Apply((float)x, at);
                        }
                        long offset = (long)j - (i + nk - nq);
                        bool vis = (p.WindowLeft < 0 || offset >= -p.WindowLeft) && (p.WindowRight < 0 || offset <= p.WindowRight);
                        if (p.KeyMask is { } keyMask)
                            vis &= keyMask[b * p.MaxSeqK + j];
                        if (typeof(TMaskMod) != typeof(NoMask))
                            vis &= maskMod.IsVisible(at);
                        s[j] = x;
                        deriv[j] = g;
                        visible[j] = vis;
                        if (vis)
                            max = Math.Max(max, x);
                    }
                    double sum = 0;
                    for (int j = 0; j < nk; j++)
                    {
                        prob[j] = visible[j] ? Math.Exp(s[j] - max) : 0;
                        sum += prob[j];
                    }
                    long lseAt = p.LseIndex(b, h, i);
                    long oAt = p.QOffset(b, i, h);
                    if (sum == 0)
                    {
                        lse[lseAt] = double.PositiveInfinity;
                        Array.Clear(prob);
                    }
                    else
                    {
                        lse[lseAt] = max + Math.Log(sum);
                        for (int j = 0; j < nk; j++)
                            prob[j] /= sum;
                    }
                    for (int j = 0; j < nk; j++)
                    {
                        bool kept = p.Dropout.IsKept(b, h, i, j);
                        if (probs.Length > 0)
                            probs[p.SoftmaxIndex(b, h, i, j)] = kept ? prob[j] : -prob[j];
                        if (!kept || prob[j] == 0)
                            continue;
                        double w = prob[j] / keep;
                        long vAt = p.KOffset(b, j, hk);
                        for (int c = 0; c < d; c++)
                            output[oAt + c] += w * v[vAt + c];
                    }
                    if (!backward)
                        continue;

                    // dP_j = Z_j/keep·(dO·v_j); dS_j = P_j(dP_j − Σ P·dP)·f′(s_j)
                    double dotSum = 0;
                    for (int j = 0; j < nk; j++)
                    {
                        if (prob[j] == 0 || !p.Dropout.IsKept(b, h, i, j))
                        {
                            s[j] = 0;
                            continue;
                        }
                        long vAt = p.KOffset(b, j, hk);
                        double dp = 0;
                        for (int c = 0; c < d; c++)
                            dp += dOut![oAt + c] * v[vAt + c];
                        s[j] = dp / keep;
                        dotSum += prob[j] * s[j];
                        double w = prob[j] / keep;
                        for (int c = 0; c < d; c++)
                            dv![vAt + c] += w * dOut![oAt + c];
                    }
                    Array.Clear(dqHat);
                    for (int j = 0; j < nk; j++)
                    {
                        if (prob[j] == 0)
                            continue;
                        double ds = prob[j] * (s[j] - dotSum) * deriv[j] * sigma;
                        for (int c = 0; c < d; c++)
                        {
                            dqHat[c] += ds * kHat[j * d + c];
                            dkHat[j * d + c] += ds * qHat[c];
                        }
                    }
                    if (l2)
                        NormalizeBackward(dqHat, qHat, qNorm, p.CosineGroups);
                    Array.Copy(dqHat, 0, dq!, oAt, d);
                }
            }
            if (backward)
            {
                for (int j = 0; j < nk; j++)
                {
                    var g = dkHat.AsSpan(j * d, d);
                    if (l2)
                        NormalizeBackward(g, kHat.AsSpan(j * d, d), kNorm.AsSpan(j * p.CosineGroups, p.CosineGroups), p.CosineGroups);
                    g.CopyTo(dk.AsSpan((int)p.KOffset(b, j, hk), d));
                }
            }
        });
        return (new ReferenceForward(output, lse, probs), backward ? new ReferenceGradients(dq!, dk!, dv!) : null);
    }

    private static void Normalize(Span<double> x, int groups, Span<double> norms)
    {
        int g = x.Length / groups;
        for (int i = 0; i < groups; i++)
        {
            var part = x.Slice(i * g, g);
            double n = 0;
            foreach (double e in part)
                n += e * e;
            n = Math.Sqrt(n);
            norms[i] = n;
            double inv = 1 / Math.Max(n, TileLoad.NormEpsilon);
            for (int c = 0; c < g; c++)
                part[c] *= inv;
        }
    }

    // grad holds d/dx̂ on entry, d/dx on return; xHat is the normalised vector.
    private static void NormalizeBackward(Span<double> grad, ReadOnlySpan<double> xHat, ReadOnlySpan<double> norms, int groups)
    {
        int g = grad.Length / groups;
        for (int i = 0; i < groups; i++)
        {
            var dx = grad.Slice(i * g, g);
            var xh = xHat.Slice(i * g, g);
            if (norms[i] <= TileLoad.NormEpsilon)
            {
                for (int c = 0; c < g; c++)
                    dx[c] /= TileLoad.NormEpsilon;
                continue;
            }
            double along = 0;
            for (int c = 0; c < g; c++)
                along += xh[c] * dx[c];
            for (int c = 0; c < g; c++)
                dx[c] = (dx[c] - xh[c] * along) / norms[i];
        }
    }
}
