"""``python -m ember.seed_session``: the 2018 walkthrough's autograd session, run on Ember.

It is the seed document's session verbatim, with ``import ember as torch``.
"""


def seed_session():
    import ember as torch
    from ember.autograd import Variable

    print(">>> x = Variable(torch.ones(2, 2), requires_grad=True)")
    x = Variable(torch.ones(2, 2), requires_grad=True)
    print(x)
    y = x * 2
    print(">>> y = x * 2\n", y, sep="")
    print(">>> y.grad_fn\n", y.grad_fn, sep="")
    z = y * y * 3
    print(">>> z = y * y * 3\n", z, sep="")
    out = z.mean()
    print(">>> out = z.mean()\n", out, sep="")
    out.backward()
    print(">>> out.backward(); x.grad\n", x.grad, sep="")

    x = torch.randn(3)
    x = Variable(x, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    print(">>> y  (x * 2**k with |y| >= 1000)\n", y, sep="")
    gradients = torch.FloatTensor([0.1, 1.0, 0.0001])
    y.backward(gradients)
    print(">>> y.backward(torch.FloatTensor([0.1, 1.0, 0.0001])); x.grad\n", x.grad, sep="")


def main():
    seed_session()


if __name__ == "__main__":
    main()
