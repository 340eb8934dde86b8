// Decode arrays sent by superres_widgets/widgets/serializers.py:
// {buffer: DataView|ArrayBuffer, dtype: "float32", shape: [ny, nx]}.
const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
};

/** Return {data: TypedArray, shape: number[]} or null. Zero-copy when aligned. */
export function decodeArray(value) {
  if (value == null) return null;
  const Ctor = CTORS[value.dtype];
  if (!Ctor) throw new Error(`unsupported dtype ${value.dtype}`);
  const buf = value.buffer;
  let ab, offset, length;
  if (buf instanceof DataView || ArrayBuffer.isView(buf)) {
    ab = buf.buffer;
    offset = buf.byteOffset;
    length = buf.byteLength;
  } else {
    ab = buf;
    offset = 0;
    length = buf.byteLength;
  }
  const n = length / Ctor.BYTES_PER_ELEMENT;
  let data;
  if (offset % Ctor.BYTES_PER_ELEMENT === 0) {
    data = new Ctor(ab, offset, n);
  } else {
    data = new Ctor(ab.slice(offset, offset + length));
  }
  return { data, shape: value.shape.slice() };
}

/** Finite min/max of a typed array (ignores NaN); null when nothing is finite. */
export function finiteRange(data) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}
