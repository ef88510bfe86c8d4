"""Package metadata comes from settings.ini, the one place nbdev and pip both read. The distribution is `lib_name`
(slowai-lib), the package it installs `lib_path` (slowai); each name in `extras` is an extra with its `NAME_requirements`,
and the dev extra has the dev tools and every extra, so `pip install -e '.[dev]'` has all the notebooks use."""
from configparser import ConfigParser
from pathlib import Path
import setuptools, shlex

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

licenses = {'apache2': 'Apache-2.0'}  # SPDX expressions: setuptools deprecates the License classifiers
statuses = ['Planning', 'Pre-Alpha', 'Alpha', 'Beta', 'Production/Stable', 'Mature', 'Inactive']
py_versions = ['3.10', '3.11', '3.12', '3.13']
min_py = cfg['min_python']
reqs = shlex.split(cfg.get('requirements', ''))
extras = {e: shlex.split(cfg[f'{e}_requirements']) for e in cfg.get('extras', '').split()}
dev_reqs = shlex.split(cfg.get('dev_requirements', '')) + [r for rs in extras.values() for r in rs]
scripts = cfg.get('scripts', '').split()  # the commands: small launchers that end a Ctrl-C during the library's import with one line
pkg = cfg['lib_path']

setuptools.setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'],
    license=licenses[cfg['license']], author=cfg['author'], author_email=cfg['author_email'],
    keywords=cfg['keywords'].split(),
    classifiers=['Development Status :: ' + f"{cfg['status']} - {statuses[int(cfg['status'])]}",
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()]
                + ['Programming Language :: Python :: ' + v for v in py_versions[py_versions.index(min_py):]],
    packages=setuptools.find_packages(include=[pkg, pkg + '.*']),
    include_package_data=True, install_requires=reqs, extras_require={**extras, 'dev': dev_reqs},
    python_requires='>=' + min_py, zip_safe=False,
    long_description=(Path(__file__).parent/'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    scripts=scripts, entry_points={'nbdev': [f"{pkg}={pkg}._modidx:d"]},
)
