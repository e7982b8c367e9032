set -e
kernel=$1
git init -q -b main repo
cd repo
git config user.name t
git config user.email t@example.com
for i in 0 1 2 3 4 5 6 7 8; do
	if [ $i -ge 6 ]; then
		printf '#!/bin/sh\n# version %s\nsleep 0.$((RANDOM %% 9 + 1))\necho c > /proc/sysrq-trigger\nsleep 30\n' $i > repro.sh
	else
		printf '#!/bin/sh\n# version %s\nsleep 30\n' $i > repro.sh
	fi
	if [ $i -eq 4 ]; then
		printf '#!/bin/sh\necho "error: this commit does not compile" >&2\nexit 1\n' > build.sh
	else
		printf '#!/bin/sh\ncp %s bzImage\n' "$kernel" > build.sh
	fi
	echo bzImage > .gitignore
	git add -A
	git commit -q -m "change $i"
done
