using System.Globalization;
using System.Runtime.CompilerServices;

namespace FlashAttention;

/// <summary>
/// A 16-bit brain floating-point number: the upper half of an IEEE float32 (1 sign, 8 exponent,
/// 7 mantissa bits). .NET 10's base library has no such type; this one converts with
/// round-to-nearest-even, the rounding PyTorch and CUDA use.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>, IFormattable
{
    /// <summary>The raw 16 bits.</summary>
    public ushort Bits { get; }

    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>Builds a value from its raw 16 bits.</summary>
    /// <param name="bits">The upper 16 bits of the equivalent float32.</param>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Zero.</summary>
    public static BFloat16 Zero => default;

    /// <summary>Rounds a float32 to the nearest bfloat16 (ties to even); NaN stays NaN.</summary>
    /// <param name="value">The value to round.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static explicit operator BFloat16(float value) => new(RoundToBits(value));

    /// <summary>Widens to float32 exactly.</summary>
    /// <param name="value">The value to widen.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static implicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ushort RoundToBits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
            return (ushort)((bits >> 16) | 0x0040u); // quiet NaN, sign kept
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <inheritdoc />
    public bool Equals(BFloat16 other) => ((float)this).Equals((float)other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => ((float)this).GetHashCode();

    /// <inheritdoc />
    public int CompareTo(BFloat16 other) => ((float)this).CompareTo((float)other);

    /// <inheritdoc />
    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ((float)this).ToString(format, formatProvider);

    /// <summary>Equality of the represented values (so +0 equals -0 and NaN equals nothing, as for float's ==).</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator ==(BFloat16 left, BFloat16 right) => (float)left == (float)right;

    /// <summary>Inequality of the represented values (true when either is NaN).</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator !=(BFloat16 left, BFloat16 right) => (float)left != (float)right;
}
