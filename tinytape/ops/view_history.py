"""What a recorded write into a storage does to its other live views (the base keeps a
list of them, ``shape._remember_view``): as PyTorch's, each takes a history re-derived from
the base's new one, and a piece of split/chunk/unbind is refused."""
import numpy as np

from .shape import ViewFromBase, view_base_and_ids

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # numpy 1.x
    byte_bounds = np.byte_bounds


def rederive_views(base, written, region=None):
    """After a recorded write into ``base``'s storage (``base`` has its new history; the write
    went through ``written``, ``base`` itself or one of its views, into the array ``region``
    where it wrote only part of that, as setitem): every other live view takes a history
    re-derived from the base's new one, as PyTorch regenerates a view whose base changed
    (``AsStridedBackward0``), so its gradient reaches what the write read.  A piece of a
    multi-output view op (split, chunk, unbind) is refused at its next use instead, as
    PyTorch refuses it.

    A view whose memory lies outside the written one and that has a history keeps it (its
    values and their gradient are unchanged; PyTorch would name the entry AsStrided): a
    loop writing row after row of a buffer whose rows are kept re-derives one row a write,
    not all of them."""
    views = base._views
    if not views:
        return
    written_bounds = _bounds(written._data if region is None else region)
    for ref in list(views):
        view = ref()
        if view is None or view is written:
            continue
        if view._requires_grad and written_bounds is not None:
            bounds = _bounds(view._data)
            if bounds is not None and (bounds[1] <= written_bounds[0] or written_bounds[1] <= bounds[0]):
                continue
        producer = view._grad_fn
        if _is_piece(producer):
            view._grad_fn = _RefusedPiece(producer, _piece_number(view))
            continue
        view._grad_fn = ViewFromBase.apply(base, view_base_and_ids(view)[1])._grad_fn
        view._output_nr, view._requires_grad = 0, True


def _bounds(data):
    """The first and one-past-last byte addresses of a host array's elements (None on a device)."""
    return byte_bounds(data) if isinstance(data, np.ndarray) else None


def _is_piece(producer):
    """Whether a view's history is that of a piece of split/chunk/unbind (one op, several views)."""
    return getattr(getattr(producer, "_function", None), "_pieces_of_one_op", False)


def _piece_number(view):
    if view._output_nr or not hasattr(view._grad_fn, "index"):
        return view._output_nr  # a piece of split: an output of its entry
    return next(i for i in view._grad_fn.index if type(i) is int)  # unbind's: the position it selects


def check_piece_write(view):
    """A recorded write into a piece of split/chunk/unbind is refused, as PyTorch's."""
    if _is_piece(view._grad_fn):
        raise RuntimeError(_PIECE_MESSAGE.format(_piece_number(view), view._grad_fn.name()[:-len("Backward0")],
                                                 "is being modified inplace"))


_PIECE_MESSAGE = ("Output {} of {} is a view and {}. This view is the output of a function that returns multiple "
                  "views. Such functions do not allow the output views to be modified inplace. You should replace "
                  "the inplace operation by an out-of-place one.")


class _RefusedPiece:
    """The history of a piece of a multi-output view op whose base was written in place:
    reading it to record an op (or to start a backward) raises PyTorch's error."""

    def __init__(self, producer, output_nr):
        self.producer, self.output_nr = producer, output_nr

    def _refuse(self):
        raise RuntimeError(_PIECE_MESSAGE.format(self.output_nr, self.producer.name()[:-len("Backward0")],
                                                 "its base or another view of its base has been modified inplace"))

    @property
    def output_shapes(self):
        self._refuse()

    output_dtypes = output_shapes

    def name(self):
        return self.producer.name()
