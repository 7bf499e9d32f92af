using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace FlashAttention;

/// <summary>The identity score modifier: kernels specialised on it contain no modifier code at all.</summary>
public readonly struct NoScoreMod : IScoreMod
{
    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Apply(float score, in ScorePosition at) => score;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float score, in ScorePosition at) => 1f;

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart) => derivatives.Fill(1f);
}

/// <summary>Soft capping (Gemma 2, Grok): score = cap·tanh(score/cap).</summary>
/// <param name="cap">The cap, positive and finite.</param>
public readonly struct SoftcapScoreMod(float cap) : IScoreMod
{
    /// <summary>The cap.</summary>
    public float Cap { get; } = cap;

    /// <inheritdoc />
    public float Apply(float score, in ScorePosition at) => Cap * MathF.Tanh(score / Cap);

    /// <inheritdoc />
    public float Derivative(float score, in ScorePosition at)
    {
        float t = MathF.Tanh(score / Cap);
        return 1f - t * t;
    }

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart)
    {
        TensorPrimitives.Multiply(scores, 1f / Cap, scores);
        TensorPrimitives.Tanh(scores, scores);
        if (!derivatives.IsEmpty)
        {
            TensorPrimitives.Multiply(scores, scores, derivatives);
            TensorPrimitives.Subtract(1f, derivatives, derivatives);
        }
        TensorPrimitives.Multiply(scores, Cap, scores);
    }
}

/// <summary>
/// ALiBi (attention with linear biases): score −= slope[batch, head]·|i + seqlen_k − seqlen_q − j|,
/// the distance to the bottom-right aligned diagonal, as FlashAttention defines it.
/// </summary>
public readonly struct AlibiScoreMod : IScoreMod
{
    private readonly float[] _slopes;
    private readonly int _batchStride;

    /// <summary>Slopes of shape [heads] (shared by every sequence) or [batch, heads].</summary>
    /// <param name="slopes">The slopes.</param>
    /// <param name="perBatch">Whether <paramref name="slopes"/> is [batch, heads] rather than [heads].</param>
    /// <param name="heads">The number of query heads.</param>
    public AlibiScoreMod(ReadOnlySpan<float> slopes, bool perBatch, int heads)
    {
        _slopes = slopes.ToArray();
        _batchStride = perBatch ? heads : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Slope(int batch, int head) => _slopes[batch * _batchStride + head];

    /// <inheritdoc />
    public float Apply(float score, in ScorePosition at) =>
        score - Slope(at.Batch, at.Head) * MathF.Abs(at.QueryIndex + at.SeqLenK - at.SeqLenQ - at.KeyIndex);

    /// <inheritdoc />
    public float Derivative(float score, in ScorePosition at) => 1f;

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart)
    {
        float slope = Slope(rowStart.Batch, rowStart.Head);
        int diagonal = rowStart.QueryIndex + rowStart.SeqLenK - rowStart.SeqLenQ - rowStart.KeyIndex;
        for (int j = 0; j < scores.Length; j++)
            scores[j] -= slope * Math.Abs(diagonal - j);
        derivatives.Fill(1f);
    }
}

/// <summary>Two score modifiers in sequence: Second(First(score)); derivatives multiply (chain rule).</summary>
/// <typeparam name="TFirst">Applied first.</typeparam>
/// <typeparam name="TSecond">Applied to the result of the first.</typeparam>
/// <param name="first">Applied first.</param>
/// <param name="second">Applied second.</param>
public readonly struct ChainedScoreMod<TFirst, TSecond>(TFirst first, TSecond second) : IScoreMod
    where TFirst : struct, IScoreMod
    where TSecond : struct, IScoreMod
{
    private readonly TFirst _first = first;
    private readonly TSecond _second = second;

    /// <inheritdoc />
    public float Apply(float score, in ScorePosition at) => _second.Apply(_first.Apply(score, at), at);

    /// <inheritdoc />
    public float Derivative(float score, in ScorePosition at) =>
        _first.Derivative(score, at) * _second.Derivative(_first.Apply(score, at), at);

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart)
    {
        _first.ApplyRow(scores, derivatives, rowStart);
        if (derivatives.IsEmpty)
        {
            _second.ApplyRow(scores, derivatives, rowStart);
            return;
        }
        Span<float> secondDerivatives = scores.Length <= 512 ? stackalloc float[scores.Length] : new float[scores.Length];
        _second.ApplyRow(scores, secondDerivatives, rowStart);
        TensorPrimitives.Multiply(derivatives, secondDerivatives, derivatives);
    }
}
