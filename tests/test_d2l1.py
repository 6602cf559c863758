"""Tests for d2l 1.0's object API (d2lnotes.d2l1: hyper, modules, models, aliases), mostly programs written the
book's way.

The real-data tests train on Fashion-MNIST from the Debian package (skipped when it is absent); the rest use
synthetic data. Code that the book attaches with ``@d2l.add_to_class(d2l.Trainer)`` is attached to a subclass
here, so that no test changes the package's classes for the tests after it.
"""

import copy
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba
from torch import nn

import d2lnotes as d2l
from d2lnotes.d2l1 import modules
from helpers import blobs

REPO = Path(__file__).resolve().parents[1]
plt = d2l.plt

class Blobs(d2l.DataModule):
    """Three Gaussian blobs in 2-D, labels 0-2: a tiny classification DataModule written the book's way."""

    def __init__(self, num_train=300, num_val=90, batch_size=32):
        super().__init__()
        self.save_hyperparameters()
        self.X, self.y = blobs(num_train + num_val)

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class LinearClassifier(d2l.Classifier):
    def __init__(self, num_outputs, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Linear(2, num_outputs)


# --- add_to_class, HyperParameters ---------------------------------------------------------------------------


def test_add_to_class_attaches_a_method_that_existing_instances_see(capsys):
    class A:
        def __init__(self):
            self.b = 1

    a = A()

    @d2l.add_to_class(A)
    def do(self):
        print('Class attribute "b" is', self.b)

    a.do()
    assert capsys.readouterr().out == 'Class attribute "b" is 1\n'
    assert do is A.do  # the decorated name stays usable


def test_save_hyperparameters_keeps_the_arguments_but_the_ignored_ones(capsys):
    class B(d2l.HyperParameters):
        def __init__(self, a, b, c, _private=0):
            self.save_hyperparameters(ignore=['c'])
            print('self.a =', self.a, 'self.b =', self.b)
            print('There is no self.c =', not hasattr(self, 'c'))

    b = B(a=1, b=2, c=3)
    assert capsys.readouterr().out == "self.a = 1 self.b = 2\nThere is no self.c = True\n"
    assert b.hparams == {"a": 1, "b": 2}


def test_set_num_workers_snippet_from_learners_notes_runs():
    class Data(d2l.DataModule):  # the snippet, on a small DataModule (FashionMNIST: see below)
        def __init__(self, batch_size=4):
            super().__init__()
            self.save_hyperparameters()

    @d2l.add_to_class(Data)
    def set_num_workers(self, num=4):
        self.num_workers = num

    data = Data(batch_size=4)
    assert data.num_workers == 4 and data.root == d2l.data_dir()
    data.set_num_workers(0)
    assert data.num_workers == 0
    loader = data.get_tensorloader((torch.arange(10.0), torch.arange(10)), train=False)
    assert [len(y) for _, y in loader] == [4, 4, 2]


# --- ProgressBoard -------------------------------------------------------------------------------------------


def _sin_cos_board(**kwargs):
    """Return the book's example board: sin every 2 points, cos every 10, for x in 0, 0.1, ..., 9.9."""
    board = d2l.ProgressBoard('x', **kwargs)
    for x in np.arange(0, 10, 0.1):
        board.draw(x, np.sin(x), 'sin', every_n=2)
        board.draw(x, np.cos(x), 'cos', every_n=10)
    return board


def test_progress_board_plots_the_mean_of_every_n_points():
    board = _sin_cos_board(display=False)
    xs = np.arange(0, 10, 0.1)
    assert len(board.data['sin']) == 50 and len(board.data['cos']) == 10
    assert board.data['sin'][0].x == pytest.approx(xs[:2].mean())
    assert board.data['sin'][0].y == pytest.approx(np.sin(xs[:2]).mean())
    assert board.data['cos'][-1].y == pytest.approx(np.cos(xs[90:]).mean())


def test_progress_board_with_display_false_makes_no_figure():
    before = plt.get_fignums()
    board = _sin_cos_board(display=False)
    assert plt.get_fignums() == before and board.fig is None
    assert board.finish() is None


def test_progress_board_under_agg_draws_styled_labelled_lines_silently(capsys, recwarn):
    board = _sin_cos_board()
    ax = board.axes
    assert ax.get_xlabel() == 'x'
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['sin', 'cos']
    (sin, cos) = ax.lines
    assert (sin.get_linestyle(), to_rgba(sin.get_color()), len(sin.get_xdata())) == ('-', to_rgba('C0'), 50)
    assert (cos.get_linestyle(), to_rgba(cos.get_color()), len(cos.get_xdata())) == ('--', to_rgba('C1'), 10)
    assert board.animator.mode == "static"
    assert capsys.readouterr() == ("", "")  # the book's board printed <Figure size 350x250 with 1 Axes> per point
    assert not recwarn.list


def test_progress_board_finish_saves_and_later_points_start_a_new_figure(tmp_path):
    board = _sin_cos_board(save_path=tmp_path / "board.png")
    first = board.fig
    assert board.finish() == tmp_path / "board.png"
    assert (tmp_path / "board.png").read_bytes().startswith(b"\x89PNG")
    board.draw(10.0, 0.5, 'sin')
    assert board.fig is not first and len(board.axes.lines) == 2  # the new figure shows all points so far
    assert len(board.axes.lines[0].get_xdata()) == 51


def test_progress_board_hidden_but_saved_draws_once_when_finished(tmp_path, monkeypatch):
    renders = []
    monkeypatch.setattr(d2l.Animator, "redraw", lambda self: renders.append(len(self.X)))
    board = _sin_cos_board(display=False, save_path=tmp_path / "board.png")
    assert renders == [] and plt.get_fignums() == []  # nothing to show: no drawing while training
    board.finish()
    assert renders == [2] and (tmp_path / "board.png").is_file()


def test_progress_board_draws_on_the_axes_it_is_given():
    fig, (left, right) = plt.subplots(1, 2)
    board = d2l.ProgressBoard(xlabel='step', ylim=[-1, 1], axes=right)
    board.draw(0, 0.5, 'a')
    board.draw(1, -0.5, 'a')
    assert board.fig is fig and board.axes is right
    assert len(right.lines) == 1 and not left.lines
    assert right.get_ylim() == (-1, 1)


def test_progress_board_cycles_styles_beyond_four_lines():
    board = d2l.ProgressBoard()
    for i in range(5):
        board.draw(0, i, f'line{i}')
    assert [to_rgba(line.get_color()) for line in board.axes.lines] == [to_rgba(f'C{i}') for i in (0, 1, 2, 3, 0)]


BOOK_SCRIPT = """\
import sys
import numpy as np
import torch
import d2lnotes as d2l

board = d2l.ProgressBoard('x')
for x in np.arange(0, 10, 0.1):
    board.draw(x, np.sin(x), 'sin', every_n=2)
    board.draw(x, np.cos(x), 'cos', every_n=10)

torch.manual_seed(0)
data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
for save_path in (sys.argv[1], None):
    model = d2l.LinearRegression(lr=0.03)
    model.board.save_path = save_path
    trainer = d2l.Trainer(max_epochs=3)
    trainer.fit(model, data)
    print('val loss', round(trainer.history[-1]['val_loss'], 3))
"""


@pytest.mark.slow  # starts a Python process
def test_book_style_script_without_a_display_finishes_silently_and_leaves_the_figure_file_or_nothing(tmp_path):
    """`python script.py` on a headless machine: matplotlib's default backend falls back to Agg."""
    script = tmp_path / "book_script.py"
    script.write_text(BOOK_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONWARNINGS="default", D2LNOTES_DATA=str(tmp_path / "data"))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        env.pop(name, None)
    res = subprocess.run([sys.executable, str(script), "loss.png"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout == "val loss 0.0\nval loss 0.0\n"  # no "<Figure size ...>" lines
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book_script.py", "loss.png"]


@pytest.mark.slow  # starts a Python process
def test_book_style_script_with_tkagg_finishes(tmp_path, virtual_display):
    script = tmp_path / "book_script.py"
    script.write_text(BOOK_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="TkAgg", DISPLAY=virtual_display,
               D2LNOTES_DATA=str(tmp_path / "data"))
    res = subprocess.run([sys.executable, str(script), "loss.png"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "loss.png").is_file()


NOTEBOOK_CELLS = [
    "import numpy as np\nimport torch\nimport d2lnotes as d2l\n_ = torch.manual_seed(0)",
    "board = d2l.ProgressBoard('x')\n"
    "for x in np.arange(0, 10, 0.1):\n"
    "    board.draw(x, np.sin(x), 'sin', every_n=2)\n"
    "    board.draw(x, np.cos(x), 'cos', every_n=10)",
    "print([len(line.get_xdata()) for line in board.axes.lines])",
    "data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)\n"
    "model = d2l.LinearRegression(lr=0.03)\n"
    "trainer = d2l.Trainer(max_epochs=3)\n"
    "trainer.fit(model, data)",
    "trainer.fit(model, data)\nprint(len(trainer.history))",
]


@pytest.fixture(scope="module")
def executed_notebook(tmp_path_factory, run_notebook):
    """Execute the book's board and training cells in a Jupyter kernel (inline backend); return the notebook."""
    folder = tmp_path_factory.mktemp("nb")
    return run_notebook(NOTEBOOK_CELLS, folder, D2LNOTES_DATA=str(folder / "data"))


def _kinds(cell) -> list[str]:
    """Return each output of ``cell`` as 'image', 'text', 'stdout' or 'stderr'."""
    kinds = []
    for o in cell.outputs:
        if o.output_type == "stream":
            kinds.append(o.name)
        elif any(k.startswith("image/") for k in o.get("data", {})):
            kinds.append("image")
        else:
            kinds.append("text")
    return kinds


def test_notebook_board_shows_one_live_figure_per_cell(executed_notebook):
    cells = executed_notebook.cells
    assert _kinds(cells[1]) == ["image"]  # updated in place: one figure, the finished one
    assert cells[2].outputs[0].text == "[50, 10]\n"  # every point was drawn by the end of the cell
    assert _kinds(cells[3]) == ["image", "text"]  # the board, then the returned history table
    table = cells[3].outputs[1]["data"]["text/plain"]
    assert table.splitlines()[0] == "epoch  train loss  val loss"
    assert len(table.splitlines()) == 4
    assert _kinds(cells[4]) == ["image", "stdout"]  # a second fit draws in its own cell
    assert cells[4].outputs[1].text == "3\n"


# --- Trainer -------------------------------------------------------------------------------------------------


def test_fit_steps_the_models_optimizer_once_per_training_batch_on_the_mean_loss():
    steps: list[tuple[tuple, torch.Tensor]] = []  # (batch, weight gradient) at every optimizer step

    class Recorded(LinearClassifier):
        def training_step(self, batch):
            self.batch = batch
            return super().training_step(batch)

        def configure_optimizers(self):
            model = self

            class RecordingSGD(torch.optim.SGD):
                def step(self, closure=None):
                    steps.append((model.batch, model.net.weight.grad.clone()))
                    return super().step(closure)

            return RecordingSGD(self.parameters(), lr=self.lr)

    torch.manual_seed(0)
    model, data = Recorded(3, lr=0.1), Blobs()
    start = copy.deepcopy(model)
    d2l.Trainer(max_epochs=2).fit(model, data)
    assert [len(batch[-1]) for batch, _ in steps] == ([32] * 9 + [300 - 9 * 32]) * 2  # one step per batch
    (X, y), grad = steps[0]
    start.loss(start(X), y).backward()  # the book's loss: the batch mean
    torch.testing.assert_close(grad, start.net.weight.grad)


def test_fit_returns_and_keeps_the_per_epoch_means_the_model_reported():
    torch.manual_seed(0)
    model, data = LinearClassifier(3, lr=0.1), Blobs()
    trainer = d2l.Trainer(max_epochs=3)
    history = trainer.fit(model, data)
    assert history is trainer.history and len(history) == 3
    assert history.columns() == ["epoch", "train_loss", "val_loss", "val_acc", "seconds"]
    assert history.epoch == [1, 2, 3] and all(isinstance(s, float) for s in history.seconds)
    assert history.train_loss == sorted(history.train_loss, reverse=True)
    # The last validation pass ran on the final model: recompute its per-batch means.
    with torch.no_grad():
        batches = list(data.val_dataloader())
        losses = [float(model.loss(model(X), y)) for X, y in batches]
        accs = [float(model.accuracy(model(X), y)) for X, y in batches]
    assert history[-1]["val_loss"] == pytest.approx(np.mean(losses))
    assert history[-1]["val_acc"] == pytest.approx(np.mean(accs)) and history[-1]["val_acc"] > 0.95
    with pytest.raises(AttributeError, match="columns: "):
        _ = history.test_acc


def test_history_prints_as_a_table_like_train_ch3s():
    h = modules.FitHistory([{"epoch": 1, "train_loss": 0.78561, "val_acc": 0.75, "seconds": 1.234},
                            {"epoch": 2, "train_loss": 0.5, "seconds": 1.0}])
    assert h.columns() == ["epoch", "train_loss", "val_acc", "seconds"] and h.seconds == [1.234, 1.0]
    assert repr(h).splitlines() == [  # one printer for both: losses to 4 places, accuracies to 3, no timings
        "epoch  train loss  val acc",
        "    1      0.7856    0.750",
        "    2      0.5000",
    ]
    assert modules.FitHistory is d2l.History


def test_the_board_gets_plot_train_per_epoch_points_per_epoch():
    torch.manual_seed(0)
    model = LinearClassifier(3, lr=0.1)
    d2l.Trainer(max_epochs=3).fit(model, Blobs())
    board = model.board
    assert board.xlabel == 'epoch' and board.xlim == [0, 3]
    assert len(board.data['train_loss']) == 3 * 2  # plot_train_per_epoch=2: every_n = 10 batches / 2
    assert [p.x for p in board.data['val_loss']] == [1, 2, 3]
    assert [p.x for p in board.data['val_acc']] == [1, 2, 3]
    assert board.data['train_loss'][0].x == pytest.approx(np.mean([i / 10 for i in range(5)]))
    assert board.animator is None  # fit finished the board


def test_trainer_fit_and_train_ch3_share_the_step_and_the_loader():
    """Same start, same shuffling: the object way and the function way end with the same parameters."""
    data = Blobs()
    torch.manual_seed(1)
    model = LinearClassifier(3, lr=0.1)
    net = nn.Linear(2, 3)
    net.load_state_dict(model.net.state_dict())
    torch.manual_seed(2)
    d2l.Trainer(max_epochs=3).fit(model, data)
    torch.manual_seed(2)
    history = d2l.train_ch3(net, data.train_dataloader(), data.val_dataloader(),
                            nn.CrossEntropyLoss(reduction="none"), 3, torch.optim.SGD(net.parameters(), lr=0.1),
                            animate=False)
    torch.testing.assert_close(model.net.weight, net.weight)
    torch.testing.assert_close(model.net.bias, net.bias)
    assert d2l.evaluate_accuracy(model, data.val_dataloader()) == history[-1].test_acc


class BookTrainer(d2l.Trainer):
    """A Trainer given the book's own fit_epoch and prepare_batch (section 3.4) with add_to_class."""


@d2l.add_to_class(BookTrainer)
def prepare_batch(self, batch):
    return batch


@d2l.add_to_class(BookTrainer)
def fit_epoch(self):
    self.model.train()
    for batch in self.train_dataloader:
        loss = self.model.training_step(self.prepare_batch(batch))
        self.optim.zero_grad()
        with torch.no_grad():
            loss.backward()
            if self.gradient_clip_val > 0:  # To be discussed later
                self.clip_gradients(self.gradient_clip_val, self.model)
            self.optim.step()
        self.train_batch_idx += 1
    if self.val_dataloader is None:
        return
    self.model.eval()
    for batch in self.val_dataloader:
        with torch.no_grad():
            self.model.validation_step(self.prepare_batch(batch))
        self.val_batch_idx += 1


def test_the_books_own_fit_epoch_still_trains_and_fills_the_history():
    torch.manual_seed(0)
    model = LinearClassifier(3, lr=0.1)
    history = BookTrainer(max_epochs=2).fit(model, Blobs())
    assert len(history) == 2 and history[-1]["val_acc"] > 0.95


def test_a_diverging_loss_stops_fit_with_a_clear_message():
    torch.manual_seed(0)
    data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
    model = d2l.LinearRegression(lr=10.0)
    with pytest.raises(d2l.TrainingDiverged, match=r"epoch 1, batch \d+.*lr=1 instead of lr=10") as err:
        d2l.Trainer(max_epochs=3).fit(model, data)
    assert not math.isfinite(err.value.loss)
    assert model.board.animator is None  # the figure was finished: the next fit starts a new one
    with pytest.raises(d2l.TrainingDiverged, match=r"epoch 1\)"):  # the book's fit_epoch: checked after the epoch
        BookTrainer(max_epochs=3).fit(d2l.LinearRegression(lr=10.0), data)


def test_clip_gradients_rescales_the_joint_norm():
    net = nn.Linear(1, 1, bias=True)
    net.weight.grad = torch.tensor([[3.0]])
    net.bias.grad = torch.tensor([4.0])
    d2l.Trainer(1).clip_gradients(10.0, net)  # norm 5: left alone
    assert (float(net.weight.grad), float(net.bias.grad)) == (3.0, 4.0)
    d2l.Trainer(1).clip_gradients(1.0, net)
    assert float(net.weight.grad) == pytest.approx(0.6) and float(net.bias.grad) == pytest.approx(0.8)


def test_gradient_clip_val_clips_every_step_through_clip_gradients():
    seen = []

    class Clipping(d2l.Trainer):
        def clip_gradients(self, grad_clip_val, model):
            super().clip_gradients(grad_clip_val, model)
            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
            seen.append((grad_clip_val, float(norm), torch.is_grad_enabled()))

    torch.manual_seed(0)
    Clipping(max_epochs=1, gradient_clip_val=0.01).fit(LinearClassifier(3, lr=0.1), Blobs())
    assert len(seen) == 10
    assert all(clip == 0.01 and norm <= 0.01 + 1e-6 and not grad for clip, norm, grad in seen)


def test_num_gpus_without_a_gpu_warns_in_one_line_and_trains_on_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.warns(UserWarning, match=r"num_gpus=1.*no GPU.*CPU.*pass num_gpus=0") as caught:
        trainer = d2l.Trainer(max_epochs=1, num_gpus=1)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the learner's line
    assert trainer.gpus == []
    torch.manual_seed(0)
    model = LinearClassifier(3, lr=0.1)
    trainer.fit(model, Blobs())
    assert model.net.weight.device.type == "cpu"


def test_num_gpus_uses_the_first_gpu_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert d2l.Trainer(max_epochs=1, num_gpus=1).gpus == [torch.device("cuda:0")]
    assert d2l.Trainer(max_epochs=1).gpus == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_a_real_gpu_moves_the_model_and_every_batch():
    torch.manual_seed(0)
    model = LinearClassifier(3, lr=0.1)
    history = d2l.Trainer(max_epochs=2, num_gpus=1).fit(model, Blobs())
    assert model.net.weight.device.type == "cuda" and history[-1]["val_acc"] > 0.95


def test_plot_outside_fit_says_what_to_do():
    with pytest.raises(RuntimeError, match=r"d2l.Trainer\(...\).fit\(model, data\)"):
        LinearClassifier(3, lr=0.1).plot("loss", 1.0, train=True)


# --- Linear regression, the book's way -----------------------------------------------------------------------


def test_linear_regression_from_scratch_with_add_to_class_and_own_sgd_recovers_w_and_b():
    class LinearRegressionScratch(d2l.Module):
        """The linear regression model implemented from scratch."""
        def __init__(self, num_inputs, lr, sigma=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.w = torch.normal(0, sigma, (num_inputs, 1), requires_grad=True)
            self.b = torch.zeros(1, requires_grad=True)

    @d2l.add_to_class(LinearRegressionScratch)
    def forward(self, X):
        return torch.matmul(X, self.w) + self.b

    @d2l.add_to_class(LinearRegressionScratch)
    def loss(self, y_hat, y):
        l = (y_hat - y) ** 2 / 2
        return d2l.reduce_mean(l)

    class SGD(d2l.HyperParameters):
        """Minibatch stochastic gradient descent."""
        def __init__(self, params, lr):
            self.save_hyperparameters()

        def step(self):
            for param in self.params:
                param -= self.lr * param.grad

        def zero_grad(self):
            for param in self.params:
                if param.grad is not None:
                    param.grad.zero_()

    @d2l.add_to_class(LinearRegressionScratch)
    def configure_optimizers(self):
        return SGD([self.w, self.b], self.lr)

    torch.manual_seed(0)
    w, b = torch.tensor([2, -3.4]), 4.2
    model = LinearRegressionScratch(2, lr=0.03)
    data = d2l.SyntheticRegressionData(w=w, b=b)
    trainer = d2l.Trainer(max_epochs=3)
    trainer.fit(model, data)
    with torch.no_grad():
        w_err, b_err = (w - d2l.reshape(model.w, w.shape)).abs(), (b - model.b).abs()
    # After the book's 3 epochs (94 steps, each shrinking the error by about 1 - lr) some error is left ...
    assert 0.03 < w_err.max() < 0.4 and 0.05 < float(b_err) < 0.5
    trainer = d2l.Trainer(max_epochs=7)
    trainer.fit(model, data)  # ... and 7 more epochs recover w and b
    with torch.no_grad():
        torch.testing.assert_close(model.w.reshape(-1), w, atol=0.01, rtol=0)
        assert abs(float(model.b) - b) < 0.01
    assert trainer.history[-1]["val_loss"] < 1e-4  # about noise^2 / 2 = 5e-5


def test_packaged_linear_regression_scratch_recovers_w_and_b():
    torch.manual_seed(0)
    model = d2l.LinearRegressionScratch(2, lr=0.03)
    d2l.Trainer(max_epochs=10).fit(model, d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2))
    with torch.no_grad():
        torch.testing.assert_close(model.w.reshape(-1), torch.tensor([2, -3.4]), atol=0.01, rtol=0)
        assert abs(float(model.b) - 4.2) < 0.01


def test_concise_linear_regression_recovers_w_and_b_in_the_books_three_epochs():
    torch.manual_seed(0)
    model = d2l.LinearRegression(lr=0.03)
    data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
    d2l.Trainer(max_epochs=3).fit(model, data)
    w, b = model.get_w_b()
    torch.testing.assert_close(w.reshape(-1), torch.tensor([2, -3.4]), atol=0.02, rtol=0)
    assert abs(float(b) - 4.2) < 0.02


def test_linear_regression_starts_from_the_books_initialisation():
    torch.manual_seed(0)
    model = d2l.LinearRegression(lr=0.03)
    model(torch.zeros(3, 500))  # the lazy layer learns its input size here
    w, b = model.get_w_b()
    assert float(w.std()) == pytest.approx(0.01, rel=0.15)  # N(0, 0.01^2), not the default uniform
    assert float(b) == 0.0


def test_synthetic_regression_data_splits_train_and_validation():
    torch.manual_seed(0)
    data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2, num_train=100, num_val=50, batch_size=32)
    X, y = next(iter(data.train_dataloader()))
    assert X.shape == (32, 2) and y.shape == (32, 1)
    assert [len(b[0]) for b in data.val_dataloader()] == [32, 18]
    assert len(data.train_dataloader()) == 4
    torch.testing.assert_close(data.y, data.X @ torch.tensor([[2.0], [-3.4]]) + 4.2, atol=0.05, rtol=0)


# --- Classification ------------------------------------------------------------------------------------------


def test_classifier_accuracy_and_loss_as_the_book_defines_them():
    model = LinearClassifier(3, lr=0.1)
    Y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5], [0.9, 0.05, 0.05], [0.0, 1.0, 0.0]])
    Y = torch.tensor([2, 0, 0, 1])
    assert float(model.accuracy(Y_hat, Y)) == 0.75
    assert model.accuracy(Y_hat, Y, averaged=False).tolist() == [1.0, 0.0, 1.0, 1.0]
    per_example = model.loss(Y_hat, Y, averaged=False)
    torch.testing.assert_close(per_example, -torch.log_softmax(Y_hat, dim=1)[range(4), Y])
    torch.testing.assert_close(model.loss(Y_hat, Y), per_example.mean())


def test_book_aliases_are_the_torch_operations():
    x = torch.arange(6.0, requires_grad=True).reshape(2, 3)
    assert d2l.reshape(x, (3, 2)).shape == (3, 2)
    assert d2l.astype(d2l.argmax(x, axis=1), d2l.float32).tolist() == [2.0, 2.0]
    assert float(d2l.reduce_mean(x.detach())) == 2.5
    assert float(d2l.reduce_sum(x.detach())) == 15.0
    assert d2l.numpy(x).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert d2l.to(x, d2l.cpu()).device.type == "cpu" and d2l.nn_Module is nn.Module
    assert d2l.size(x) == 6 and d2l.transpose(x).shape == (3, 2)


def test_packaged_softmax_regression_is_the_books_model():
    torch.manual_seed(0)
    model = d2l.SoftmaxRegression(num_outputs=10, lr=0.1)
    model.apply_init([torch.zeros(2, 1, 28, 28)])
    assert [type(m) for m in model.net] == [nn.Flatten, nn.Linear]
    assert model.net[1].weight.shape == (10, 784) and model.lr == 0.1
    assert isinstance(model.configure_optimizers(), torch.optim.SGD)


# --- Real Fashion-MNIST --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fashion_mnist_dir(real_data_dir):
    """Point D2LNOTES_DATA at the session's real-data dir for this module's tests; return it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("D2LNOTES_DATA", str(real_data_dir))
        yield real_data_dir


@pytest.fixture(scope="module")
def fashion_mnist(fashion_mnist_dir):
    """Return ``d2l.FashionMNIST(batch_size=256)``, loaded once for the module."""
    return d2l.FashionMNIST(batch_size=256)


def test_fashion_mnist_datasets_labels_and_loaders(fashion_mnist, fashion_mnist_dir):
    data = fashion_mnist
    assert len(data.train) == 60000 and len(data.val) == 10000
    assert data.train[0][0].shape == (1, 28, 28) and data.root == fashion_mnist_dir
    assert data.text_labels([0, 9]) == ['t-shirt', 'ankle boot']
    X, y = next(iter(data.val_dataloader()))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(y, data.val.tensors[1][:256])  # validation in order
    assert len(data.train_dataloader()) == 235
    torch.manual_seed(0)
    first = next(iter(data.train_dataloader()))[1]
    assert not torch.equal(first, data.train.tensors[1][:256])  # training shuffled


def test_fashion_mnist_visualize_titles_each_image(fashion_mnist):
    batch = next(iter(fashion_mnist.val_dataloader()))
    assert fashion_mnist.visualize(batch) is None
    axes = plt.gcf().axes
    assert len(axes) == 8
    assert [ax.get_title() for ax in axes] == fashion_mnist.text_labels(batch[1][:8])
    fashion_mnist.visualize(batch, nrows=2, ncols=3, labels=list("abcdef"))
    assert [ax.get_title() for ax in plt.gcf().axes] == list("abcdef")


def test_set_num_workers_on_fashion_mnist_is_harmless(fashion_mnist_dir):
    @d2l.add_to_class(d2l.FashionMNIST)
    def set_num_workers(self, num=4):
        self.num_workers = num

    try:
        data = d2l.FashionMNIST(batch_size=256, resize=(32, 32))
        data.set_num_workers(0)
        assert data.num_workers == 0
        X, y = next(iter(data.train_dataloader()))
        assert X.shape == (256, 1, 32, 32) and float(X.max()) <= 1.0
    finally:
        del d2l.FashionMNIST.set_num_workers


def test_softmax_regression_the_books_way_reaches_the_books_accuracy(fashion_mnist):
    class SoftmaxRegression(d2l.Classifier):
        """The softmax regression model."""
        def __init__(self, num_outputs, lr):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Flatten(),
                                     nn.LazyLinear(num_outputs))

        def forward(self, X):
            return self.net(X)

    torch.manual_seed(0)
    data = fashion_mnist
    model = SoftmaxRegression(num_outputs=10, lr=0.1)
    trainer = d2l.Trainer(max_epochs=2)  # chapter 11 trains the ten epochs of the book and checks the result
    history = trainer.fit(model, data)
    assert len(history) == 2
    assert 0.74 <= history[0]["train_loss"] <= 0.84 and history[1]["train_loss"] < history[0]["train_loss"]
    assert 0.76 <= history[-1]["val_acc"] <= 0.84
    assert abs(d2l.evaluate_accuracy(model, data.val_dataloader()) - history[-1]["val_acc"]) < 0.005


class MLPScratch(d2l.Classifier):
    def __init__(self, num_inputs, num_outputs, num_hiddens, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.b1 = nn.Parameter(torch.zeros(num_hiddens))
        self.W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * sigma)
        self.b2 = nn.Parameter(torch.zeros(num_outputs))


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


@d2l.add_to_class(MLPScratch)
def forward(self, X):  # noqa: F811 - attached to MLPScratch, as the book does
    X = d2l.reshape(X, (-1, self.num_inputs))
    H = relu(torch.matmul(X, self.W1) + self.b1)
    return torch.matmul(H, self.W2) + self.b2


class MLP(d2l.Classifier):
    def __init__(self, num_outputs, num_hiddens, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_hiddens),
                                 nn.ReLU(), nn.LazyLinear(num_outputs))


@pytest.mark.parametrize("make", [
    lambda: MLPScratch(num_inputs=784, num_outputs=10, num_hiddens=256, lr=0.1),
    lambda: MLP(num_outputs=10, num_hiddens=256, lr=0.1),
], ids=["scratch", "concise"])
def test_mlp_the_books_way_reaches_the_books_accuracy(fashion_mnist, make):
    torch.manual_seed(0)
    model = make()
    history = d2l.Trainer(max_epochs=2).fit(model, fashion_mnist)  # two epochs: it learns; chapter 09 trains to the end
    assert 0.85 <= history.train_loss[0] <= 1.3 and history.train_loss[1] < 0.7
    assert history[-1]["val_acc"] >= 0.70


def test_fit_divergence_keeps_the_history_and_an_empty_loader_is_named():
    class Exploding(LinearClassifier):
        def training_step(self, batch):
            loss = super().training_step(batch)
            return loss * float("nan") if self.trainer.epoch >= 1 else loss

    torch.manual_seed(0)
    with pytest.raises(d2l.TrainingDiverged) as err:
        d2l.Trainer(max_epochs=3).fit(Exploding(3, lr=0.1), Blobs())
    assert [record["epoch"] for record in err.value.history] == [1]
    with pytest.raises(ValueError, match="yielded no batch in epoch 1"):
        d2l.Trainer(max_epochs=1).fit(LinearClassifier(3, lr=0.1), Blobs(num_train=0))
