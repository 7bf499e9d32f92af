namespace FlashAttention;

/// <summary>The results of a forward pass: what the backward pass needs besides q, k and v.</summary>
/// <typeparam name="T">The storage type.</typeparam>
/// <param name="Output">The attention output, laid out like q.</param>
/// <param name="Lse">The natural log-sum-exp of every query row ([B, H, Nq], or [H, total_q] when packed); +∞ for a row that sees no key.</param>
public sealed record AttentionOutput<T>(T[] Output, float[] Lse) where T : unmanaged;

/// <summary>The gradients a backward pass returns.</summary>
/// <typeparam name="T">The storage type.</typeparam>
/// <param name="DQ">Gradient with respect to q, laid out like q.</param>
/// <param name="DK">Gradient with respect to k, laid out like k.</param>
/// <param name="DV">Gradient with respect to v, laid out like v.</param>
public sealed record AttentionGradients<T>(T[] DQ, T[] DK, T[] DV) where T : unmanaged;
