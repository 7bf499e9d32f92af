using FlashAttention.Cpu;

namespace FlashAttention;

/// <summary>
/// Exact attention computed the FlashAttention way on the CPU: tiled, with an online softmax, never materialising the
/// N×N score matrix; the backward pass recomputes the scores from q, k and the saved log-sum-exp.
/// Tensors use FlashAttention's layout (see <see cref="AttentionShape"/> and <see cref="VarlenLayout"/>); storage is
/// float, <see cref="Half"/> or <see cref="BFloat16"/>, and all arithmetic is float32.
/// Every argument is checked before any work starts; a failed check throws <see cref="ArgumentException"/> naming the
/// argument and writes nothing.
/// </summary>
public static class Attention
{
    /// <summary>
    /// Forward pass: output = softmax(scale·q·kᵀ + modifiers, masked)·v, and the log-sum-exp of every query row.
    /// A query row that sees no key gets output 0 and LSE +∞.
    /// </summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">Receives the output [B, Nq, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [B, H, Nq] (natural log), needed by the backward pass.</param>
    /// <param name="options">Scale, masks, modifiers, dropout, variant; null for the defaults.</param>
    /// <param name="softmax">
    /// Empty, or receives the probabilities [B, H, Nq, Nk] with the dropout mask in the sign bit
    /// (|x| is the probability, a set sign bit means dropped). Asking for it costs O(N²) memory, by definition.
    /// </param>
    public static void Forward<T>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        Span<T> output, Span<float> lse, AttentionOptions? options = null, Span<float> softmax = default)
        where T : unmanaged =>
        Forward(shape, q, k, v, output, lse, default(NoScoreMod), default(NoMask), options, softmax);

    /// <summary>Forward pass with the caller's own score modifier and mask (applied after the built-in options).</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <typeparam name="TScoreMod">A struct score modifier; the kernel is specialised for it.</typeparam>
    /// <typeparam name="TMaskMod">A struct mask; the kernel is specialised for it.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">Receives the output [B, Nq, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [B, H, Nq].</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">Built-in options; null for the defaults.</param>
    /// <param name="softmax">Empty, or receives the probabilities [B, H, Nq, Nk] with the dropout mask in the sign bit.</param>
    public static void Forward<T, TScoreMod, TMaskMod>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        Span<T> output, Span<float> lse, TScoreMod scoreMod, TMaskMod maskMod, AttentionOptions? options = null, Span<float> softmax = default)
        where T : unmanaged
        where TScoreMod : struct, IScoreMod
        where TMaskMod : struct, IMaskMod =>
        RunForward(new AttentionProblem(shape, options), q, k, v, output, lse, softmax, scoreMod, maskMod);

    /// <summary>Forward pass over packed variable-length sequences.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="layout">Sequence offsets, heads and head dim.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="output">Receives the output [total_q, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [H, total_q].</param>
    /// <param name="options">Built-in options; null for the defaults.</param>
    /// <param name="softmax">Empty, or receives the probabilities [B, H, max_Nq, max_Nk] (zero outside each sequence).</param>
    public static void ForwardVarlen<T>(VarlenLayout layout, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        Span<T> output, Span<float> lse, AttentionOptions? options = null, Span<float> softmax = default)
        where T : unmanaged =>
        ForwardVarlen(layout, q, k, v, output, lse, default(NoScoreMod), default(NoMask), options, softmax);

    /// <summary>Forward pass over packed variable-length sequences with the caller's own modifiers.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <typeparam name="TScoreMod">A struct score modifier.</typeparam>
    /// <typeparam name="TMaskMod">A struct mask.</typeparam>
    /// <param name="layout">Sequence offsets, heads and head dim.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="output">Receives the output [total_q, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [H, total_q].</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">Built-in options; null for the defaults.</param>
    /// <param name="softmax">Empty, or receives the probabilities [B, H, max_Nq, max_Nk].</param>
    public static void ForwardVarlen<T, TScoreMod, TMaskMod>(VarlenLayout layout, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        Span<T> output, Span<float> lse, TScoreMod scoreMod, TMaskMod maskMod, AttentionOptions? options = null, Span<float> softmax = default)
        where T : unmanaged
        where TScoreMod : struct, IScoreMod
        where TMaskMod : struct, IMaskMod =>
        RunForward(new AttentionProblem(layout, options), q, k, v, output, lse, softmax, scoreMod, maskMod);

    /// <summary>
    /// Backward pass by recomputation: from dO and the forward's output and LSE, the gradients dq, dk, dv.
    /// Pass the options (and modifiers) the forward used; dropout regenerates the same mask from (seed, offset).
    /// </summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">The forward output [B, Nq, H, D].</param>
    /// <param name="lse">The forward log-sum-exp [B, H, Nq].</param>
    /// <param name="dOutput">Gradient of the loss with respect to the output [B, Nq, H, D].</param>
    /// <param name="dq">Receives dq [B, Nq, H, D].</param>
    /// <param name="dk">Receives dk [B, Nk, Hkv, D].</param>
    /// <param name="dv">Receives dv [B, Nk, Hkv, D].</param>
    /// <param name="options">The forward's options.</param>
    public static void Backward<T>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> output, ReadOnlySpan<float> lse, ReadOnlySpan<T> dOutput, Span<T> dq, Span<T> dk, Span<T> dv,
        AttentionOptions? options = null)
        where T : unmanaged =>
        Backward(shape, q, k, v, output, lse, dOutput, dq, dk, dv, default(NoScoreMod), default(NoMask), options);

    /// <summary>Backward pass with the caller's own modifiers (the same ones the forward used).</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <typeparam name="TScoreMod">A struct score modifier.</typeparam>
    /// <typeparam name="TMaskMod">A struct mask.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">The forward output [B, Nq, H, D].</param>
    /// <param name="lse">The forward log-sum-exp [B, H, Nq].</param>
    /// <param name="dOutput">Gradient with respect to the output [B, Nq, H, D].</param>
    /// <param name="dq">Receives dq [B, Nq, H, D].</param>
    /// <param name="dk">Receives dk [B, Nk, Hkv, D].</param>
    /// <param name="dv">Receives dv [B, Nk, Hkv, D].</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">The forward's options.</param>
    public static void Backward<T, TScoreMod, TMaskMod>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> output, ReadOnlySpan<float> lse, ReadOnlySpan<T> dOutput, Span<T> dq, Span<T> dk, Span<T> dv,
        TScoreMod scoreMod, TMaskMod maskMod, AttentionOptions? options = null)
        where T : unmanaged
        where TScoreMod : struct, IScoreMod
        where TMaskMod : struct, IMaskMod =>
        RunBackward(new AttentionProblem(shape, options), q, k, v, output, lse, dOutput, dq, dk, dv, scoreMod, maskMod);

    /// <summary>Backward pass over packed variable-length sequences.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="layout">Sequence offsets, heads and head dim.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="output">The forward output [total_q, H, D].</param>
    /// <param name="lse">The forward log-sum-exp [H, total_q].</param>
    /// <param name="dOutput">Gradient with respect to the output [total_q, H, D].</param>
    /// <param name="dq">Receives dq [total_q, H, D].</param>
    /// <param name="dk">Receives dk [total_k, Hkv, D].</param>
    /// <param name="dv">Receives dv [total_k, Hkv, D].</param>
    /// <param name="options">The forward's options.</param>
    public static void BackwardVarlen<T>(VarlenLayout layout, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> output, ReadOnlySpan<float> lse, ReadOnlySpan<T> dOutput, Span<T> dq, Span<T> dk, Span<T> dv,
        AttentionOptions? options = null)
        where T : unmanaged =>
        BackwardVarlen(layout, q, k, v, output, lse, dOutput, dq, dk, dv, default(NoScoreMod), default(NoMask), options);

    /// <summary>Backward pass over packed variable-length sequences with the caller's own modifiers.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <typeparam name="TScoreMod">A struct score modifier.</typeparam>
    /// <typeparam name="TMaskMod">A struct mask.</typeparam>
    /// <param name="layout">Sequence offsets, heads and head dim.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="output">The forward output [total_q, H, D].</param>
    /// <param name="lse">The forward log-sum-exp [H, total_q].</param>
    /// <param name="dOutput">Gradient with respect to the output [total_q, H, D].</param>
    /// <param name="dq">Receives dq [total_q, H, D].</param>
    /// <param name="dk">Receives dk [total_k, Hkv, D].</param>
    /// <param name="dv">Receives dv [total_k, Hkv, D].</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">The forward's options.</param>
    public static void BackwardVarlen<T, TScoreMod, TMaskMod>(VarlenLayout layout, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> output, ReadOnlySpan<float> lse, ReadOnlySpan<T> dOutput, Span<T> dq, Span<T> dk, Span<T> dv,
        TScoreMod scoreMod, TMaskMod maskMod, AttentionOptions? options = null)
        where T : unmanaged
        where TScoreMod : struct, IScoreMod
        where TMaskMod : struct, IMaskMod =>
        RunBackward(new AttentionProblem(layout, options), q, k, v, output, lse, dOutput, dq, dk, dv, scoreMod, maskMod);

    /// <summary>Forward pass that allocates its results: the output (like q) and the log-sum-exp.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <returns>The output [B, Nq, H, D] and the log-sum-exp [B, H, Nq].</returns>
    public static AttentionOutput<T> Forward<T>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, AttentionOptions? options = null)
        where T : unmanaged
    {
        var problem = new AttentionProblem(shape, options);
        var output = new T[problem.QueryLength];
        var lse = new float[problem.LseLength];
        RunForward(problem, q, k, v, output, lse, default, default(NoScoreMod), default(NoMask));
        return new AttentionOutput<T>(output, lse);
    }

    /// <summary>Backward pass that allocates its results: dq, dk and dv.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="forward">What the forward pass returned.</param>
    /// <param name="dOutput">Gradient with respect to the output [B, Nq, H, D].</param>
    /// <param name="options">The forward's options.</param>
    /// <returns>dq [B, Nq, H, D], dk and dv [B, Nk, Hkv, D].</returns>
    public static AttentionGradients<T> Backward<T>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        AttentionOutput<T> forward, ReadOnlySpan<T> dOutput, AttentionOptions? options = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(forward);
        var problem = new AttentionProblem(shape, options);
        var dq = new T[problem.QueryLength];
        var dk = new T[problem.KeyValueLength];
        var dv = new T[problem.KeyValueLength];
        RunBackward(problem, q, k, v, forward.Output, forward.Lse, dOutput, dq, dk, dv, default(NoScoreMod), default(NoMask));
        return new AttentionGradients<T>(dq, dk, dv);
    }

    private static unsafe void RunForward<T, TScoreMod, TMaskMod>(AttentionProblem p, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        Span<T> output, Span<float> lse, Span<float> softmax, TScoreMod scoreMod, TMaskMod maskMod)
        where T : unmanaged
        where TScoreMod : struct, IScoreMod
        where TMaskMod : struct, IMaskMod
    {
        Validation.ElementType<T>();
        string shape = p.ShapeText;
        Validation.Length(q, p.QueryLength, nameof(q), shape);
        Validation.Length(k, p.KeyValueLength, nameof(k), shape);
        Validation.Length(v, p.KeyValueLength, nameof(v), shape);
        Validation.Length<T>(output, p.QueryLength, nameof(output), shape);
        Validation.Length<float>(lse, p.LseLength, nameof(lse), shape);
        Validation.OptionalLength<float>(softmax, p.SoftmaxLength, nameof(softmax), shape);
        fixed (T* pq = q, pk = k, pv = v, po = output)
        fixed (float* pl = lse, ps = softmax)
        {
            var launch = new ForwardLaunch<T>(p, new ForwardTensors<T>(pq, pk, pv, po, pl, softmax.IsEmpty ? null : ps));
            ModDispatch.Run(p, scoreMod, maskMod, ref launch);
        }
    }

    private static unsafe void RunBackward<T, TScoreMod, TMaskMod>(AttentionProblem p, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> output, ReadOnlySpan<float> lse, ReadOnlySpan<T> dOutput, Span<T> dq, Span<T> dk, Span<T> dv,
        TScoreMod scoreMod, TMaskMod maskMod)
        where T : unmanaged
        where TScoreMod : struct, IScoreMod
        where TMaskMod : struct, IMaskMod
    {
        Validation.ElementType<T>();
        string shape = p.ShapeText;
        Validation.Length(q, p.QueryLength, nameof(q), shape);
        Validation.Length(k, p.KeyValueLength, nameof(k), shape);
        Validation.Length(v, p.KeyValueLength, nameof(v), shape);
        Validation.Length(output, p.QueryLength, nameof(output), shape);
        Validation.Length(lse, p.LseLength, nameof(lse), shape);
        Validation.Length(dOutput, p.QueryLength, nameof(dOutput), shape);
        Validation.Length<T>(dq, p.QueryLength, nameof(dq), shape);
        Validation.Length<T>(dk, p.KeyValueLength, nameof(dk), shape);
        Validation.Length<T>(dv, p.KeyValueLength, nameof(dv), shape);
        fixed (T* pq = q, pk = k, pv = v, po = output, pdo = dOutput, pdq = dq, pdk = dk, pdv = dv)
        fixed (float* pl = lse)
        {
            var launch = new BackwardLaunch<T>(p, new BackwardTensors<T>(pq, pk, pv, po, pl, pdo, pdq, pdk, pdv));
            ModDispatch.Run(p, scoreMod, maskMod, ref launch);
        }
    }

    private readonly struct ForwardLaunch<T>(AttentionProblem p, ForwardTensors<T> tensors) : IModConsumer where T : unmanaged
    {
        public void Run<TScore, TMask>(TScore score, TMask mask)
            where TScore : struct, IScoreMod
            where TMask : struct, IMaskMod
        {
            if (p.Variant == AttentionVariant.Cosine)
                CpuForward.Run(p, tensors, score, mask, new FixedBound(p.ScoreBound));
            else
                CpuForward.Run(p, tensors, score, mask, default(RunningMax));
        }
    }

    private readonly struct BackwardLaunch<T>(AttentionProblem p, BackwardTensors<T> tensors) : IModConsumer where T : unmanaged
    {
        public void Run<TScore, TMask>(TScore score, TMask mask)
            where TScore : struct, IScoreMod
            where TMask : struct, IMaskMod =>
            CpuBackward.Run(p, tensors, score, mask);
    }
}
