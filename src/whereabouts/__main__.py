from whereabouts.cli import main

main()
