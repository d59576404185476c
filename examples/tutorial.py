# MXNet 1.9.1's autograd tutorial ("Automatic Differentiation"), cell by cell, run on ad: the
# only change from the MXNet script is the import line, `from ad import autograd, nd`.
# It prints what the script prints with MXNet, tests/fixtures/tutorial-expected-output.txt.
from ad import autograd, nd

# 1.1 create a variable
x = nd.arange(4).reshape((4, 1))
print(x)

# 1.2 attach gradient to x
x.attach_grad()
print(x.grad)

# 1.3 forward
with autograd.record():
    y = 2 * nd.dot(x.T, x)
print(y)

# 1.4 backward
y.backward()

# 1.5 get the gradient: dy/dx = 4x
print((x.grad - 4 * x).norm().asscalar() == 0)
print(x.grad)

# 1.6 backward on non-scalar: y.backward() equals y.sum().backward()
with autograd.record():
    y = 2 * x * x
print(y.shape)
y.backward()
print(x.grad)

# 1.7 training mode and prediction mode
print(autograd.is_training())
with autograd.record():
    print(autograd.is_training())

# 1.8 gradient of Python control flow
def f(a):
    b = a * 2
    while b.norm().asscalar() < 1000:
        b = b * 2
    if b.sum().asscalar() > 0:
        c = b
    else:
        c = 100 * b
    return c

# 1.9 the function's behaviour depends on its input
a = nd.random.normal(shape=1)
a.attach_grad()
with autograd.record():
    d = f(a)
d.backward()

# 1.10 f is piecewise linear: f(a) = g * a, so the gradient is d / a
print(a.grad == (d / a))

# 1.11 head gradients and the chain rule
with autograd.record():
    y = x * 2
y.attach_grad()
with autograd.record():
    z = y * x
z.backward()        # y.grad = dz/dy
y.backward(y.grad)  # x.grad = dz/dy * dy/dx
print(x.grad == 2 * x)
