import csv
exec(open('sources.py').read()); exec(open('element_data.py').read()); exec(open('mining.py').read()); exec(open('composition.py').read()); exec(open('deposits.py').read())
out='/work/research/elements/'
def w(name,header,rows):
    with open(out+name,'w',newline='') as f:
        wr=csv.writer(f); wr.writerow(header)
        for r in rows: wr.writerow(['' if x is None else x for x in r])
w('sources.csv',['key','citation','url','licence','tag','note'],S)
w('element_data.csv',['item','element','region','year','value','low','high','unit','source_key','tag','note'],R)
w('mining_by_deposit.csv',['deposit_type','country','model_region','year','value','low','high','unit','source_key','tag','note'],M)
w('composition.csv',['application','element','year','value','low','high','unit','basis','source_key','tag','note'],C)
w('deposits.csv',['deposit','deposit_type','country','model_region','element','value','unit','source_key','tag','note'],D)
keys={s[0] for s in S}
used=set()
for rows,idx in [(R,8),(M,8),(C,8),(D,7)]:
    for r in rows:
        if r[idx]: used.add(r[idx])
print('missing keys:',sorted(used-keys))
print('unused keys:',sorted(keys-used))
print(len(S),len(R),len(M),len(C),len(D))
