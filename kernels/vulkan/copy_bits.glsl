// Element bits moved without conversion, for the layout ops (transpose,
// concat), whose result has its operands' dtype: 2-byte dtypes as uint16,
// 4-byte ones as int32.
void copy_element(int dtype, int from_operand, uint from, int to_operand, uint to) {
  if (dtype == DT_F16 || dtype == DT_BF16) {
    U16Buf(pc.operand[to_operand]).v[to] = U16Buf(pc.operand[from_operand]).v[from];
  } else {
    I32Buf(pc.operand[to_operand]).v[to] = I32Buf(pc.operand[from_operand]).v[from];
  }
}
