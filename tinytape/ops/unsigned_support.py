"""What PyTorch does with each op on the limited unsigned dtypes (uint16, uint32, uint64).

Recorded from PyTorch 2.14.1 on the CPU by ``tools/survey_unsigned.py`` (do not edit by hand:
run it again), which calls every ``torch.<name>`` / ``Tensor.<name>`` that tinytape has too
with tensors of each of the three dtypes.  A name stands for both the function and the
method, unless the table names ``torch.<name>`` or ``Tensor.<name>`` apart; ``factory.<name>``
is ``torch.<name>(..., dtype=...)`` making a tensor of the dtype.  The outcome is
the same for the three dtypes.  ``ops/dtype_rules.py`` reads the table.
"""

# names PyTorch computes on these dtypes
COMPUTED = frozenset("""
__and__ __eq__ __getitem__ __iand__ __imul__ __ior__ __ixor__ __mul__ __ne__ __or__ __pos__ __rand__ __rmul__
__ror__ __rtruediv__ __rxor__ __truediv__ __xor__ acos acosh adaptive_avg_pool1d adjoint alias_copy all allclose
angle any arccos arccosh arcsin arcsinh arctan arctan2 arctanh argsort as_strided as_strided_ as_strided_copy
asin asinh atan atan2 atanh atleast_1d atleast_2d atleast_3d bfloat16 bitwise_and bitwise_and_ bitwise_or
bitwise_or_ bitwise_xor bitwise_xor_ block_diag bool broadcast_tensors broadcast_to byte cartesian_prod cat ceil
ceil_ chain_matmul char chunk clone column_stack combinations concat concatenate conj conj_physical
conj_physical_ const_data_ptr constant_pad_nd contiguous copy_ copysign corrcoef cos cosh cov cumprod cumsum
deg2rad detach diag diag_embed diagflat diagonal diagonal_copy diagonal_scatter digamma dim div divide double
dstack einsum embedding factory.empty empty_like eq eq_ equal erf erfc erfinv exp exp2 expand expand_as
expand_copy expm1 fill_ fill_diagonal_ fix fix_ flatten flip fliplr flipud float float_power floor floor_
factory.full full_like gather ger half hsplit hstack i0 index_add index_add_ index_select int is_complex is_conj
is_contiguous is_floating_point is_inference is_neg is_same_size is_signed isclose isfinite isinf isnan isneginf
isposinf isreal kron ldexp lgamma log log10 log1p log2 logit logsumexp long meshgrid moveaxis movedim msort mul
mul_ multiply multiply_ mvlgamma nan_to_num nan_to_num_ nansum ndimension ne ne_ nelement new_empty new_ones
new_zeros not_equal not_equal_ numel factory.ones ones_like outer permute polygamma positive prod rad2deg
factory.randint randint_like ravel real reciprocal repeat repeat_interleave reshape reshape_as resolve_conj
resolve_neg result_type roll rot90 round round_ row_stack rsqrt factory.scalar_tensor scatter scatter_
scatter_add scatter_add_ select select_copy short sigmoid signbit sin sinc sinh size slice_copy slice_scatter
sort sparse_coo_tensor split split_copy sqrt squeeze squeeze_ squeeze_copy stack storage_offset stride sum
sum_to_size swapaxes swapaxes_ swapdims swapdims_ t t_ t_copy tan tanh tensor_split tile to_dense transpose
transpose_ transpose_copy true_divide trunc trunc_ type_as typename unbind unbind_copy unique unique_consecutive
unsafe_chunk unsafe_split unsqueeze unsqueeze_ unsqueeze_copy view view_as view_copy vmap vsplit vstack
Tensor.where xlogy zero_ factory.zeros zeros_like
""".split())

# NotImplementedError('"<kernel>" not implemented for \'UInt32\''), by kernel
NOT_IMPLEMENTED = {
    'LayerNormKernelImpl': 'layer_norm',
    'abs_cpu': '__abs__ abs abs_ absolute absolute_',
    'adaptive_max_pool2d': 'adaptive_max_pool1d',
    'add_stub': '__add__ __iadd__ __isub__ __radd__ __rsub__ __sub__ add add_ cumulative_trapezoid diff dist gradient'
        ' hinge_embedding_loss margin_ranking_loss pairwise_distance rsub sub sub_ subtract subtract_ '
        'trapezoid trapz triplet_margin_loss',
    'addcmul_cpu_out': 'addcmul addcmul_',
    'addmm_impl_cpu_': '__matmul__ __rmatmul__ addmm addmm_ inner matmul mm',
    'addr_cpu': 'addr',
    'aminmax_cpu': 'aminmax histc',
    'arange_cpu': 'factory.arange',
    'argmax_cpu': 'argmax',
    'argmin_cpu': 'argmin',
    'avg_pool2d': 'avg_pool1d',
    'bernoulli_scalar_cpu_': 'bernoulli bernoulli_',
    'bincount_cpu': 'bincount',
    'bitwise_not_cpu': '__invert__ bitwise_not bitwise_not_',
    'check_uniform_bounds': 'factory.rand rand_like uniform_',
    'cholesky_inverse_out_cpu': 'cholesky_inverse',
    'cholesky_solve_cpu': 'cholesky_solve',
    'clamp_min_scalar_cpu': 'relu relu_',
    'cross': 'cross',
    'cummax_cpu': 'cummax',
    'cummin_cpu': 'cummin',
    'cumprod_out_cpu': 'cumprod_',
    'cumsum_out_cpu': 'cumsum_',
    'div_floor_cpu': '__floordiv__ __ifloordiv__ __rfloordiv__ floor_divide floor_divide_',
    'dot': 'dot tensordot vdot',
    'elu_cpu': 'celu celu_ selu selu_',
    'eye': 'factory.eye matrix_power',
    'fmod_cpu': 'fmod fmod_',
    'frac_cpu': 'frac frac_',
    'gcd_cpu': 'gcd gcd_',
    'ge_cpu': '__ge__ ge ge_ greater_equal greater_equal_',
    'geqrf_cpu': 'geqrf',
    'gt_cpu': '__gt__ greater greater_ gt gt_',
    'hardshrink_cpu': 'hardshrink',
    'heaviside_cpu': 'heaviside heaviside_',
    'histogramdd': 'histogram',
    'hypot_cpu': 'hypot hypot_',
    'igamma_cpu': 'igamma',
    'igammac_cpu': 'igammac',
    'index_copy_cpu': 'index_copy index_copy_',
    'index_fill_cpu': 'index_fill index_fill_',
    'isin_default_cpu': 'isin',
    'kthvalue_cpu': 'kthvalue',
    'lcm_cpu': 'lcm lcm_',
    'le_cpu': '__le__ le le_ less_equal less_equal_',
    'leaky_relu_cpu': 'rrelu rrelu_',
    'lerp_kernel_tensor': 'lerp lerp_',
    'linspace_cpu': 'factory.linspace',
    'log_normal_cpu': 'log_normal_',
    'log_sigmoid_cpu': 'binary_cross_entropy_with_logits',
    'log_softmax_kernel_impl': 'log_softmax',
    'logaddexp2_cpu': 'logaddexp2',
    'logaddexp_cpu': 'logaddexp',
    'logcumsumexp_out_cpu': 'logcumsumexp',
    'logical_and_cpu': 'logical_and logical_and_',
    'logical_not_cpu': 'logical_not logical_not_',
    'logical_or_cpu': 'logical_or logical_or_',
    'logical_xor_cpu': 'logical_xor logical_xor_',
    'logspace_cpu': 'factory.logspace',
    'lshift_cpu': '__ilshift__ __lshift__ __rlshift__ bitwise_left_shift bitwise_left_shift_',
    'lt_cpu': '__lt__ less less_ lt lt_',
    'lu_cpu': 'lu',
    'masked_fill': 'masked_fill masked_fill_',
    'masked_scatter': 'masked_scatter masked_scatter_',
    'masked_select': 'masked_select',
    'max_all': 'max',
    'max_cpu': 'max_dim',
    'max_pool1d_impl': 'max_pool1d',
    'max_pool2d': 'max_pool1d_with_indices',
    'max_values_cpu': 'amax',
    'maximum_cpu': 'clamp clamp_ clamp_min clamp_min_ clip clip_ fmax maximum',
    'median_cpu': 'median nanmedian',
    'min_all': 'min',
    'min_cpu': 'min_dim',
    'min_values_cpu': 'amin',
    'minimum_cpu': 'clamp_max clamp_max_ fmin minimum',
    'mode_cpu': 'mode',
    'neg_cpu': '__neg__ neg neg_ negative negative_',
    'nextafter_cpu': 'nextafter nextafter_',
    'nonzero_count_cpu': 'argwhere count_nonzero nonzero to_sparse torch.where',
    'normal_kernel_cpu': 'normal normal_ factory.randn randn_like',
    'poisson_cpu': 'poisson',
    'pow': '__ipow__ __pow__ __rpow__ pow pow_ square square_',
    'random_kernel_cpu': 'random_',
    'randperm': 'factory.randperm',
    'range_cpu': 'factory.range',
    'remainder_cpu': '__imod__ __mod__ __rmod__ remainder remainder_',
    'rms_norm': 'rms_norm',
    'rshift_cpu': '__irshift__ __rrshift__ __rshift__ bitwise_right_shift bitwise_right_shift_',
    'searchsorted_out_cpu': 'searchsorted',
    'sign_cpu': 'sgn sgn_ sign sign_',
    'softmax_kernel_impl': 'softmax',
    'threshold_cpu': 'threshold threshold_',
    'topk_cpu': 'topk',
    'trace': 'trace',
    'triangular_solve_cpu': 'triangular_solve',
    'tril': 'tril tril_',
    'tril_indices': 'factory.tril_indices',
    'triu': 'triu triu_',
    'triu_indices': 'factory.triu_indices',
}

# other refusals: (error, message, the names refused so); {dtype} and {c_type} stand for the
# dtype's names (UInt32, unsigned int)
REFUSED = (
    (RuntimeError, "result type Float can't be cast to the desired output type {dtype}",
     '__itruediv__ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan2_ arctan_ arctanh_ asin_ asinh_ '
     'atan2_ atan_ atanh_ copysign_ cos_ cosh_ deg2rad_ digamma_ div_ divide_ erf_ erfc_ erfinv_ exp2_ '
     'exp_ expm1_ i0_ lgamma_ log10_ log1p_ log2_ log_ logit_ polygamma_ rad2deg_ reciprocal_ rsqrt_ '
     'sigmoid_ sin_ sinc_ sinh_ sqrt_ tan_ tanh_ true_divide_ xlogy_'),
    (RuntimeError, 'Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform '
     'a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input +'
     ' value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * '
     'tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: '
     '(input + value * tensor1 / tensor2), for all dtypes.',
     'addcdiv addcdiv_'),
    (ValueError, 'binomial only supports floating-point dtypes for count, got: {dtype}',
     'binomial'),
    (RuntimeError, 'Promotion for uint16, uint32, uint64 types is not supported, attempted to promote Long and {dtype}',
     'bucketize'),
    (RuntimeError, 'Cauchy distribution is a continuous probability distribution. dtype must be a floating point but you'
     ' specified {c_type}',
     'cauchy_'),
    (RuntimeError, 'cdist only supports floating-point dtypes, X1 got: {dtype}',
     'cdist'),
    (RuntimeError, 'Expected both inputs to be Half, Float or Double tensors but got {dtype} and {dtype}',
     'complex polar'),
    (RuntimeError, 'expected common dtype to be floating point, yet common dtype is {dtype}',
     'cosine_similarity'),
    (RuntimeError, 'linalg.det: Expected a floating point or complex tensor as input. Got {dtype}',
     'det'),
    (RuntimeError, 'Exponential distribution is a continuous probability distribution. dtype must be a floating point '
     'but you specified {dtype}',
     'exponential_'),
    (RuntimeError, 'torch.frexp() only supports floating-point dtypes',
     'frexp'),
    (RuntimeError, 'linalg.inv: Expected a floating point or complex tensor as input. Got {dtype}',
     'inverse'),
    (RuntimeError, 'kl_div: Integral inputs not supported.',
     'kl_div'),
    (RuntimeError, "ldexp can't be cast to the desired output type {dtype}",
     'ldexp_'),
    (RuntimeError, 'logdet: Expected a floating point or complex tensor as input. Got {dtype}',
     'logdet'),
    (RuntimeError, 'linalg.matrix_exp: Expected a floating point or complex tensor as input. Got {dtype}',
     'matrix_exp'),
    (RuntimeError, 'mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. '
     'Got: {dtype}',
     'mean'),
    (RuntimeError, 'multinomial only supports floating-point dtypes for input, got: {dtype}',
     'multinomial'),
    (RuntimeError, 'addmv input tensors must have the same dtype, but got Long, {dtype}, and Long',
     'mv'),
    (RuntimeError, "mvlgamma: result type {dtype} can't be cast to the desired output type Float",
     'mvlgamma_'),
    (RuntimeError, 'nanmean(): expected input to have floating point or complex dtype but got {dtype}',
     'nanmean'),
    (RuntimeError, 'quantile() input tensor must be either float or double dtype',
     'nanquantile quantile'),
    (RuntimeError, 'linalg.vector_norm: Expected a floating point or complex tensor as input. Got {dtype}',
     'norm'),
    (RuntimeError, 'pdist only supports floating-point dtypes',
     'pdist'),
    (RuntimeError, 'linalg.pinv({dtype}{{[3, 3]}}): expected a tensor with 2 or more dimensions of float, double, cfloat'
     ' or cdouble types',
     'pinverse'),
    (RuntimeError, 'put_(): Expected a long tensor for index, but got {dtype}',
     'put put_'),
    (RuntimeError, 'linalg.slogdet: Expected a floating point or complex tensor as input. Got {dtype}',
     'slogdet'),
    (RuntimeError, 'std and var only support floating point and complex dtypes',
     'std var'),
    (RuntimeError, 'std_mean only support floating point and complex dtypes',
     'std_mean'),
    (RuntimeError, 'linalg.svd: Expected a floating point or complex tensor as input. Got {dtype}',
     'svd'),
    (RuntimeError, 'take(): Expected a long tensor for index, but got {dtype}',
     'take'),
    (RuntimeError, 'gather(): Expected dtype int32/int64 for index',
     'take_along_dim'),
    (RuntimeError, 'Promotion for uint16, uint32, uint64 types is not supported, attempted to promote {dtype} and Long',
     'unravel_index vander'),
    (RuntimeError, 'var_mean only support floating point and complex dtypes',
     'var_mean'),
)
