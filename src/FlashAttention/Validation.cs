namespace FlashAttention;

/// <summary>Argument checks shared by every entry point; each failure names the argument and what was expected.</summary>
internal static class Validation
{
    public const int MaxHeadDim = 256;

    public static void HeadCounts(int heads, int kvHeads, int headDim)
    {
        if (heads <= 0)
            throw new ArgumentException($"heads must be positive; got {heads}.", nameof(heads));
        if (kvHeads <= 0)
            throw new ArgumentException($"kvHeads must be positive; got {kvHeads}.", nameof(kvHeads));
        if (heads % kvHeads != 0)
            throw new ArgumentException($"heads ({heads}) must be a multiple of kvHeads ({kvHeads}) for MQA/GQA.", nameof(kvHeads));
        if (headDim < 1 || headDim > MaxHeadDim)
            throw new ArgumentException($"headDim must be in 1..{MaxHeadDim}; got {headDim}.", nameof(headDim));
    }

    public static void Shape(AttentionShape shape)
    {
        if (shape.Batch <= 0)
            throw new ArgumentException($"shape.Batch must be positive; got {shape.Batch}.", nameof(shape));
        if (shape.SeqLenQ < 0 || shape.SeqLenK < 0)
            throw new ArgumentException($"shape sequence lengths must be non-negative; got SeqLenQ={shape.SeqLenQ}, SeqLenK={shape.SeqLenK}.", nameof(shape));
        try
        {
            HeadCounts(shape.Heads, shape.KvHeads, shape.HeadDim);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, nameof(shape));
        }
    }

    public static void Length<T>(ReadOnlySpan<T> span, long expected, string name, string shapeText)
    {
        if (span.Length != expected)
            throw new ArgumentException($"{name} must have {expected} elements for shape {shapeText}; got {span.Length}.", name);
    }

    public static void OptionalLength<T>(ReadOnlySpan<T> span, long expected, string name, string shapeText)
    {
        if (!span.IsEmpty)
            Length(span, expected, name, shapeText);
    }

    public static void ElementType<T>()
    {
        if (!Cpu.Elements.IsSupported<T>())
            throw new NotSupportedException($"Element type {typeof(T).Name} is not supported; use float, Half or BFloat16.");
    }

    public static void Finite(float value, string name)
    {
        if (!float.IsFinite(value))
            throw new ArgumentException($"{name} must be finite; got {value}.", "options");
    }
}
