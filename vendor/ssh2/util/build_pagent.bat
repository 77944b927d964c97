@cl /Ox pagent.c User32.lib
@del /Q *.obj