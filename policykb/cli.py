import sys

def main():
    print("stub")
