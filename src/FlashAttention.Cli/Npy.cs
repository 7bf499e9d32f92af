using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace FlashAttention.Cli;

/// <summary>The element types the tool reads from and writes to .npy files.</summary>
internal enum NpyDtype
{
    /// <summary><c>&lt;f4</c>: little-endian IEEE float32.</summary>
    Float32,

    /// <summary><c>&lt;f2</c>: little-endian IEEE float16.</summary>
    Float16,

    /// <summary><c>&lt;i4</c>: little-endian int32.</summary>
    Int32,

    /// <summary><c>&lt;i8</c>: little-endian int64 (NumPy's default integer, so accepted for offsets and masks).</summary>
    Int64,

    /// <summary><c>|b1</c>: one byte per boolean.</summary>
    Bool,

    /// <summary><c>|u1</c>: unsigned byte (accepted for masks).</summary>
    UInt8,
}

/// <summary>An array read from a .npy file: its C-ordered payload, dtype and shape, and the path it came from (for messages).</summary>
internal sealed class NpyArray
{
    /// <summary>Wraps a payload.</summary>
    /// <param name="path">Where the array came from.</param>
    /// <param name="dtype">The element type of <paramref name="data"/>.</param>
    /// <param name="shape">The dimensions, outermost first.</param>
    /// <param name="data">The raw little-endian elements in C order.</param>
    public NpyArray(string path, NpyDtype dtype, long[] shape, byte[] data)
    {
        Path = path;
        Dtype = dtype;
        Shape = shape;
        Data = data;
    }

    /// <summary>The file the array was read from.</summary>
    public string Path { get; }

    /// <summary>The stored element type.</summary>
    public NpyDtype Dtype { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public long[] Shape { get; }

    /// <summary>The raw payload.</summary>
    public byte[] Data { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Number of elements.</summary>
    public long Count => Npy.Product(Shape);

    /// <summary>The elements as float32 (widening float16). Valid for <see cref="NpyDtype.Float32"/> and <see cref="NpyDtype.Float16"/>.</summary>
    public float[] ToSingle() => Dtype switch
    {
        NpyDtype.Float32 => MemoryMarshal.Cast<byte, float>(Data).ToArray(),
        NpyDtype.Float16 => Widen(MemoryMarshal.Cast<byte, Half>(Data)),
        _ => throw new InvalidOperationException($"{Path}: {Npy.Descr(Dtype)} is not a floating-point dtype."),
    };

    /// <summary>
    /// The elements as the compute type <typeparamref name="T"/> (float, Half or BFloat16), rounding to nearest even
    /// where the stored type is wider. Reads a float16 payload into Half without a detour through float.
    /// </summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    public T[] ToElements<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(Half) && Dtype == NpyDtype.Float16)
            return MemoryMarshal.Cast<byte, T>(Data).ToArray();
        var single = ToSingle();
        if (typeof(T) == typeof(float))
            return (T[])(object)single;
        var result = new T[single.Length];
        Cpu.Elements.FromFloat<T>(single, result);
        return result;
    }

    /// <summary>The elements as int32. Valid for <see cref="NpyDtype.Int32"/> and for <see cref="NpyDtype.Int64"/> values that fit.</summary>
    public int[] ToInt32()
    {
        if (Dtype == NpyDtype.Int32)
            return MemoryMarshal.Cast<byte, int>(Data).ToArray();
        if (Dtype != NpyDtype.Int64)
            throw new InvalidOperationException($"{Path}: {Npy.Descr(Dtype)} is not an integer dtype.");
        var wide = MemoryMarshal.Cast<byte, long>(Data);
        var result = new int[wide.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            if (wide[i] < int.MinValue || wide[i] > int.MaxValue)
                throw new CliException($"{Path}: value {wide[i]} at index {i} does not fit in int32.");
            result[i] = (int)wide[i];
        }
        return result;
    }

    /// <summary>The elements as booleans, nonzero meaning true (any integer or boolean dtype).</summary>
    public bool[] ToBool()
    {
        var result = new bool[Count];
        switch (Dtype)
        {
            case NpyDtype.Bool:
            case NpyDtype.UInt8:
                for (int i = 0; i < result.Length; i++)
                    result[i] = Data[i] != 0;
                break;
            case NpyDtype.Int32:
                var i4 = MemoryMarshal.Cast<byte, int>(Data);
                for (int i = 0; i < result.Length; i++)
                    result[i] = i4[i] != 0;
                break;
            case NpyDtype.Int64:
                var i8 = MemoryMarshal.Cast<byte, long>(Data);
                for (int i = 0; i < result.Length; i++)
                    result[i] = i8[i] != 0;
                break;
            default:
                throw new InvalidOperationException($"{Path}: {Npy.Descr(Dtype)} is not a boolean or integer dtype.");
        }
        return result;
    }

    private static float[] Widen(ReadOnlySpan<Half> half)
    {
        var result = new float[half.Length];
        Cpu.Elements.ToFloat(half, result);
        return result;
    }
}

/// <summary>
/// Reader and writer of NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// header versions 1.0, 2.0 and 3.0, little-endian numeric dtypes, C order. Every failure is a <see cref="CliException"/>
/// that names the file.
/// </summary>
internal static class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>NumPy aligns the start of the data to this many bytes so the payload can be memory-mapped.</summary>
    private const int HeaderAlignment = 64;

    /// <summary>NumPy's <c>GROWTH_AXIS_MAX_DIGITS</c>: room for the growable axis of the shape to reach 21 digits.</summary>
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>Reads a whole .npy file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="CliException">The file is missing, unreadable, malformed, Fortran-ordered or of an unsupported dtype.</exception>
    public static NpyArray Read(string path)
    {
        if (!File.Exists(path))
            throw new CliException($"{path}: file not found.");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Read(stream, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read: {e.Message}");
        }
    }

    /// <summary>Reads a .npy image from a stream.</summary>
    /// <param name="stream">Positioned at the magic string.</param>
    /// <param name="path">The name used in messages.</param>
    public static NpyArray Read(Stream stream, string path)
    {
        Span<byte> preamble = stackalloc byte[8];
        if (stream.ReadAtLeast(preamble, preamble.Length, throwOnEndOfStream: false) < preamble.Length || !preamble[..6].SequenceEqual(Magic))
            throw new CliException($"{path}: not a .npy file (no \\x93NUMPY magic).");
        int major = preamble[6], minor = preamble[7];
        int lengthBytes = major switch
        {
            1 => 2,
            2 or 3 => 4,
            _ => throw new CliException($"{path}: unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are supported)."),
        };
        Span<byte> lengthField = stackalloc byte[4];
        lengthField.Clear();
        if (stream.ReadAtLeast(lengthField[..lengthBytes], lengthBytes, throwOnEndOfStream: false) < lengthBytes)
            throw new CliException($"{path}: truncated .npy header.");
        uint headerLength = BitConverter.ToUInt32(lengthField);
        if (headerLength > 1 << 24)
            throw new CliException($"{path}: implausible .npy header length {headerLength}.");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerBytes.Length)
            throw new CliException($"{path}: truncated .npy header.");
        // Versions 1.0 and 2.0 store the header in latin-1; 3.0 allows UTF-8 (for structured field names).
        string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);

        var (descr, fortranOrder, shape) = ParseHeader(header, path);
        if (fortranOrder)
            throw new CliException($"{path}: Fortran-ordered arrays are not supported; save a C-ordered array (np.ascontiguousarray).");
        var dtype = ParseDescr(descr) ?? throw new CliException(
            $"{path}: unsupported dtype '{descr}'; the tool reads <f4, <f2, <i4, <i8, |b1 and |u1.");

        long count;
        try
        {
            count = Product(shape);
        }
        catch (OverflowException)
        {
            throw new CliException($"{path}: shape {FormatShape(shape)} is too large.");
        }
        long bytes = count * ItemSize(dtype);
        if (bytes > Array.MaxLength)
            throw new CliException($"{path}: shape {FormatShape(shape)} ({bytes} bytes) exceeds the {Array.MaxLength}-byte limit of one array.");
        var data = new byte[bytes];
        int read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < data.Length)
            throw new CliException($"{path}: truncated: shape {FormatShape(shape)} of {descr} needs {bytes} data bytes, the file has {read}.");
        return new NpyArray(path, dtype, shape, data);
    }

    /// <summary>
    /// Writes a .npy file with a header of the given version, padded so the data starts at a multiple of 64 bytes
    /// as NumPy does. A version 1.0 header that would exceed 65535 bytes is written as 2.0, also as NumPy does.
    /// </summary>
    /// <typeparam name="T">float, Half, int, long, bool or byte.</typeparam>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="data">The elements in C order.</param>
    /// <param name="shape">The dimensions; their product must equal the element count.</param>
    /// <param name="version">Header major version: 1, 2 or 3.</param>
    public static void Write<T>(string path, ReadOnlySpan<T> data, ReadOnlySpan<long> shape, int version = 1) where T : unmanaged
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream, data, shape, version);
    }

    /// <summary>Writes a .npy image to a stream (see <see cref="Write{T}(string, ReadOnlySpan{T}, ReadOnlySpan{long}, int)"/>).</summary>
    /// <typeparam name="T">float, Half, int, long, bool or byte.</typeparam>
    /// <param name="stream">The destination.</param>
    /// <param name="data">The elements in C order.</param>
    /// <param name="shape">The dimensions.</param>
    /// <param name="version">Header major version: 1, 2 or 3.</param>
    public static void Write<T>(Stream stream, ReadOnlySpan<T> data, ReadOnlySpan<long> shape, int version = 1) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Writing .npy files needs a little-endian machine.");
        if (version is < 1 or > 3)
            throw new ArgumentOutOfRangeException(nameof(version), version, "The .npy header version must be 1, 2 or 3.");
        var dtype = DtypeOf<T>();
        if (Product(shape) != data.Length)
            throw new ArgumentException($"Shape {FormatShape(shape)} holds {Product(shape)} elements; got {data.Length}.", nameof(shape));

        string dict = $"{{'descr': '{Descr(dtype)}', 'fortran_order': False, 'shape': {PythonTuple(shape)}, }}";
        var encoding = version == 3 ? Encoding.UTF8 : Encoding.Latin1;
        // NumPy (since 1.24) reserves spaces for the first axis to grow to 21 digits, so the header can be rewritten
        // in place when appending; reproducing it keeps our files byte-identical to np.save's.
        int growth = shape.Length > 0 ? Math.Max(0, GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length) : 0;
        int contentBytes = encoding.GetByteCount(dict) + growth + 1; // + the final newline
        if (version == 1 && PaddedHeaderLength(contentBytes, 2) > ushort.MaxValue)
            version = 2;
        int lengthBytes = version == 1 ? 2 : 4;
        int headerLength = PaddedHeaderLength(contentBytes, lengthBytes);

        var prefix = new byte[Magic.Length + 2 + lengthBytes + headerLength];
        Magic.CopyTo(prefix);
        prefix[6] = (byte)version;
        prefix[7] = 0;
        if (lengthBytes == 2)
            BitConverter.TryWriteBytes(prefix.AsSpan(8, 2), (ushort)headerLength);
        else
            BitConverter.TryWriteBytes(prefix.AsSpan(8, 4), (uint)headerLength);
        int start = 8 + lengthBytes;
        int dictBytes = encoding.GetBytes(dict, prefix.AsSpan(start));
        // Padding is spaces and one final newline, exactly as numpy.lib.format writes it.
        prefix.AsSpan(start + dictBytes, headerLength - dictBytes - 1).Fill((byte)' ');
        prefix[^1] = (byte)'\n';
        stream.Write(prefix);
        stream.Write(MemoryMarshal.AsBytes(data));
    }

    /// <summary>
    /// The header length NumPy writes for <paramref name="contentBytes"/> of dictionary, growth spaces and newline:
    /// padded so the data starts on a 64-byte boundary, and (like NumPy) by a full 64 bytes when it already would.
    /// </summary>
    private static int PaddedHeaderLength(int contentBytes, int lengthBytes)
    {
        int prefix = Magic.Length + 2 + lengthBytes;
        return contentBytes + HeaderAlignment - (prefix + contentBytes) % HeaderAlignment;
    }

    /// <summary>The NumPy type string of a dtype, e.g. <c>&lt;f4</c>.</summary>
    /// <param name="dtype">The dtype.</param>
    public static string Descr(NpyDtype dtype) => dtype switch
    {
        NpyDtype.Float32 => "<f4",
        NpyDtype.Float16 => "<f2",
        NpyDtype.Int32 => "<i4",
        NpyDtype.Int64 => "<i8",
        NpyDtype.Bool => "|b1",
        NpyDtype.UInt8 => "|u1",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Bytes per element.</summary>
    /// <param name="dtype">The dtype.</param>
    public static int ItemSize(NpyDtype dtype) => dtype switch
    {
        NpyDtype.Float32 or NpyDtype.Int32 => 4,
        NpyDtype.Float16 => 2,
        NpyDtype.Int64 => 8,
        NpyDtype.Bool or NpyDtype.UInt8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>A shape as the messages print it: <c>[2, 128, 8, 64]</c>.</summary>
    /// <param name="shape">The dimensions.</param>
    public static string FormatShape(ReadOnlySpan<long> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
            sb.Append(i == 0 ? "" : ", ").Append(shape[i].ToString(CultureInfo.InvariantCulture));
        return sb.Append(']').ToString();
    }

    /// <summary>The element count of a shape (1 for a scalar).</summary>
    /// <param name="shape">The dimensions.</param>
    /// <exception cref="OverflowException">The count does not fit in a long.</exception>
    public static long Product(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long d in shape)
            n = checked(n * d);
        return n;
    }

    private static NpyDtype DtypeOf<T>() =>
        typeof(T) == typeof(float) ? NpyDtype.Float32 :
        typeof(T) == typeof(Half) ? NpyDtype.Float16 :
        typeof(T) == typeof(int) ? NpyDtype.Int32 :
        typeof(T) == typeof(long) ? NpyDtype.Int64 :
        typeof(T) == typeof(bool) ? NpyDtype.Bool :
        typeof(T) == typeof(byte) ? NpyDtype.UInt8 :
        throw new NotSupportedException($"No .npy dtype for {typeof(T).Name}.");

    private static NpyDtype? ParseDescr(string descr) => descr switch
    {
        "<f4" => NpyDtype.Float32,
        "<f2" => NpyDtype.Float16,
        "<i4" => NpyDtype.Int32,
        "<i8" => NpyDtype.Int64,
        "|b1" => NpyDtype.Bool,
        "|u1" => NpyDtype.UInt8,
        _ => null,
    };

    private static string PythonTuple(ReadOnlySpan<long> shape)
    {
        // Python spells a one-element tuple with a trailing comma: (5,).
        if (shape.Length == 1)
            return $"({shape[0].ToString(CultureInfo.InvariantCulture)},)";
        return "(" + FormatShape(shape)[1..^1] + ")";
    }

    private static (string Descr, bool FortranOrder, long[] Shape) ParseHeader(string header, string path)
    {
        object? value;
        try
        {
            var parser = new PythonLiteralParser(header);
            value = parser.ParseValue();
            parser.ExpectEnd();
        }
        catch (FormatException e)
        {
            throw new CliException($"{path}: malformed .npy header ({e.Message}).");
        }
        if (value is not Dictionary<string, object?> dict)
            throw new CliException($"{path}: malformed .npy header (not a dictionary).");
        if (!dict.TryGetValue("descr", out var descr) || !dict.TryGetValue("fortran_order", out var fortran) || !dict.TryGetValue("shape", out var shape))
            throw new CliException($"{path}: malformed .npy header (needs 'descr', 'fortran_order' and 'shape').");
        if (descr is not string descrText)
            throw new CliException($"{path}: unsupported dtype (structured arrays are not supported); the tool reads <f4, <f2, <i4, <i8, |b1 and |u1.");
        if (fortran is not bool fortranOrder)
            throw new CliException($"{path}: malformed .npy header ('fortran_order' is not True or False).");
        if (shape is not List<object?> dims || dims.Any(d => d is not long n || n < 0))
            throw new CliException($"{path}: malformed .npy header ('shape' is not a tuple of non-negative integers).");
        return (descrText, fortranOrder, dims.Select(d => (long)d!).ToArray());
    }

    /// <summary>
    /// Parses the subset of Python literal syntax a .npy header uses: dicts, tuples/lists, quoted strings,
    /// integers (with Python 2's optional L suffix), True, False and None.
    /// </summary>
    private ref struct PythonLiteralParser(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public object? ParseValue()
        {
            SkipSpace();
            if (_pos >= _text.Length)
                throw new FormatException("unexpected end");
            char c = _text[_pos];
            if (c == '{')
                return ParseDict();
            if (c is '(' or '[')
                return ParseSequence(c == '(' ? ')' : ']');
            if (c is '\'' or '"')
                return ParseString();
            if (c == '-' || char.IsAsciiDigit(c))
                return ParseInteger();
            if (char.IsAsciiLetter(c))
            {
                int start = _pos;
                while (_pos < _text.Length && char.IsAsciiLetterOrDigit(_text[_pos]))
                    _pos++;
                return _text[start.._pos] switch
                {
                    "True" => true,
                    "False" => false,
                    "None" => null,
                    var word => throw new FormatException($"unexpected '{word}'"),
                };
            }
            throw new FormatException($"unexpected '{c}' at offset {_pos}");
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_pos != _text.Length)
                throw new FormatException($"trailing text at offset {_pos}");
        }

        private Dictionary<string, object?> ParseDict()
        {
            var dict = new Dictionary<string, object?>();
            _pos++; // {
            while (true)
            {
                SkipSpace();
                if (TryConsume('}'))
                    return dict;
                if (ParseValue() is not string key)
                    throw new FormatException("dictionary key is not a string");
                SkipSpace();
                if (!TryConsume(':'))
                    throw new FormatException("missing ':'");
                dict[key] = ParseValue();
                SkipSpace();
                if (TryConsume('}'))
                    return dict;
                if (!TryConsume(','))
                    throw new FormatException("missing ',' in dictionary");
            }
        }

        private List<object?> ParseSequence(char close)
        {
            var items = new List<object?>();
            _pos++; // ( or [
            while (true)
            {
                SkipSpace();
                if (TryConsume(close))
                    return items;
                items.Add(ParseValue());
                SkipSpace();
                if (TryConsume(close))
                    return items;
                if (!TryConsume(','))
                    throw new FormatException("missing ',' in sequence");
            }
        }

        private string ParseString()
        {
            char quote = _text[_pos++];
            int end = _text.IndexOf(quote, _pos);
            if (end < 0)
                throw new FormatException("unterminated string");
            string s = _text[_pos..end];
            _pos = end + 1;
            return s;
        }

        private long ParseInteger()
        {
            int start = _pos;
            if (_text[_pos] == '-')
                _pos++;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
                _pos++;
            if (!long.TryParse(_text.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
                throw new FormatException($"bad integer at offset {start}");
            if (_pos < _text.Length && _text[_pos] is 'L' or 'l')
                _pos++; // Python 2 long suffix, found in old files
            return n;
        }

        private bool TryConsume(char c)
        {
            if (_pos < _text.Length && _text[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }

        private void SkipSpace()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
                _pos++;
        }
    }
}
